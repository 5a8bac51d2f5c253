"""Suite-wide fixtures. The suite uses SQLite unless CIVILITY_TEST_DATABASE_URL is set."""

import os
import tempfile

os.environ.setdefault("CIVILITY_DATA_DIR", tempfile.mkdtemp(prefix="civility-test-"))
os.environ.setdefault("CIVILITY_EMAIL_URL", "locmem:")
