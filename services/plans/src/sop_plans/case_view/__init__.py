"""The plans part of the gateway's case view: one call per case, one call per caseload page."""
