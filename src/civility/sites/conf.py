"""Settings of the sites app (imported at the end of config/settings.py)."""

# The site every existing row belongs to, and the one a request falls back to when no other
# site claims its host or path prefix. Created by the migrations and again after a flush.
CIVILITY_DEFAULT_SITE_ID = 1
# How long the resolved list of sites stays in the cache (saving a site clears it at once).
CIVILITY_SITES_CACHE_SECONDS = 300
