"""sop_shared."""
