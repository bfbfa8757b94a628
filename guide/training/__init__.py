"""Case examples: self-study and live trainer sessions, and the case examples' content."""
