"""sop_gateway."""
