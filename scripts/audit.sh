#!/bin/sh
# Supply-chain audit: pip-audit over requirements/base.txt and requirements/test.txt, with the
# reviewed ignores in src/civility/security/pip-audit-ignores.toml (docs/security.md).
# Exit 0: no known vulnerability; 1: a vulnerability (or an expired ignore); 2: nothing could
# be checked (the vulnerability service is unreachable).
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if ! "$PYTHON" -c "import pip_audit" 2>/dev/null; then
    echo "audit: pip-audit is not installed (make install-test installs it)" >&2
    exit 2
fi
exec "$PYTHON" -m civility.security.supply_chain "$@"
