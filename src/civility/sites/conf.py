"""Settings of the sites app (imported at the end of config/settings.py)."""
