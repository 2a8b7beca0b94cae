"""Translations of statements, written (and verified) by people: never machine-translated."""
