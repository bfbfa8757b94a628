"""Advice and sign-off: ask a named adviser from any question or outcome; advisers reply and countersign."""
