"""sop_network."""
