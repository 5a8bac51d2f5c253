"""Settings contributed by the ops app (imported at the end of config/settings.py)."""
