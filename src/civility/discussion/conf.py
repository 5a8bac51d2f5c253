"""Settings contributed by the discussion app (imported at the end of config/settings.py)."""
