"""sop_plans."""
