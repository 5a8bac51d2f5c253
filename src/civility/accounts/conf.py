"""Settings contributed by the accounts app (imported at the end of config/settings.py)."""
