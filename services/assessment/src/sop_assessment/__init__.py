"""sop_assessment."""
