"""A family or network member acting as themselves on their own case's plan: sign (or refuse) the version
shown to them, and check in on the rules they watch."""
