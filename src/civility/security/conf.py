"""Settings contributed by the security app (imported at the end of config/settings.py)."""
