"""The chat entry: a practitioner's own words → the closest cases, the right flowchart, the same walk."""
