"""After a referral: the safeguarding process flows, each role's part, timelines in working days."""
