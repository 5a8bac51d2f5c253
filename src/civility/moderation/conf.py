"""Settings contributed by the moderation app (imported at the end of config/settings.py)."""
