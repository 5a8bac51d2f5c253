"""Settings contributed by the notifications app (imported at the end of config/settings.py)."""
