"""The known triggers of a case's children and caregivers (ids only, from the assessment service's events), and
the plan's account of how it avoids each."""
