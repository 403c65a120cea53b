"""Guard and admin accounts: password hashing and login rate limiting (no HTTP, no SQL here)."""
