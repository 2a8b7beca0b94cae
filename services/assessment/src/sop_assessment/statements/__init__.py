"""Harm and danger statements: what happened, and what people fear will happen if nothing changes."""
