"""Practice fidelity (issue 15 part 4): how SOP is practised, counted from the other services' events."""
