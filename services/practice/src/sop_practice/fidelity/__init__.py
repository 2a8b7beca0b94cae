"""Practice fidelity (issue 15 part 4): a read model of how SOP is practised, counted from the other services' events."""
