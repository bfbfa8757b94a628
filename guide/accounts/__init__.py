"""Users and sign-in: accounts, passwords, API tokens, the sign-in pages."""
