"""Settings contributed by the news app (imported at the end of config/settings.py)."""
