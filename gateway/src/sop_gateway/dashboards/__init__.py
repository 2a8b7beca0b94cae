"""The practice dashboards (issue 15 part 6): a supervisor's page for their unit and a coach's page for their
caseload, the fidelity measures quarter by quarter beside the state's rate, as self-contained HTML with inline SVG."""
