"""Admin registration for users (masking and search arrive with the accounts issue)."""
