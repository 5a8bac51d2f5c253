"""Chromium for the security tests: the same browser and flags as tests/browser/."""

from __future__ import annotations

import pytest

from tests.browser.conftest import CHROMIUM_MISSING, SKIP_REASON

# Browser tests are skipped (loudly) without Debian's chromium, as in tests/browser/.
needs_chromium = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM_MISSING, reason=SKIP_REASON)]

# Collects every CSP violation the page sees, from the first script on.
CSP_RECORDER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} `
    + `at ${e.sourceFile || document.location.href}:${e.lineNumber}`);
}, true);
"""
