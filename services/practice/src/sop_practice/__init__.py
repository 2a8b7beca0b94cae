"""The practice service: MidSOUTH coaching, training and practice fidelity (issue 15)."""
