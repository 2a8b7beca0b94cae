"""Translations of the plans' family-facing words, by people (`sop_shared.translations`)."""
