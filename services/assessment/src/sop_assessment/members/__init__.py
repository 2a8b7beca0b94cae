"""A family or network member acting as themselves: their own safety-scale rating, and their response to a
statement (agree or disagree, in their own words, kept verbatim)."""
