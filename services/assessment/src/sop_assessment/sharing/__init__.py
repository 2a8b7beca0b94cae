"""Ready to share: a worker marks a statement, a safety goal or a map version ready for the family, their
network, partners and the court (`sop_shared.sharing` holds the rule)."""
