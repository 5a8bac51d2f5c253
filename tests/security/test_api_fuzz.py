"""Schemathesis over the JSON API (/api/openapi.json): generated requests, valid and not, for
every operation; no answer may be a server error, and every answer must match the schema
(status codes and bodies the API documents). Requests carry a real bearer token, so the
authenticated paths are fuzzed as well as the refusals.

Skipped (loudly) when schemathesis is not installed; it is a test dependency.

CI runs 30 generated requests per operation and check. The long run (docs/security.md):

    CIVILITY_FUZZ_EXAMPLES=1500 nice -n 10 .venv/bin/python -m pytest \
        tests/security/test_api_fuzz.py -k documented -q -s

checks every answer for server errors and for conformance, and prints the number of cases.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="SCHEMATHESIS NOT INSTALLED")

from django.core.wsgi import get_wsgi_application  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis import checks as schemathesis_checks  # noqa: E402

from civility.discussion.api import api  # noqa: E402

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()

SAFETY_CHECKS = [schemathesis_checks.not_a_server_error]
CONFORMANCE_CHECKS = [
    schemathesis_checks.not_a_server_error,
    schemathesis_checks.status_code_conformance,
    schemathesis_checks.response_schema_conformance,
    schemathesis_checks.content_type_conformance,
]
FUZZ = settings(
    max_examples=int(os.environ.get("CIVILITY_FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


CASES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def count_cases() -> Iterator[None]:
    yield
    print(f"\nschemathesis: {CASES.total()} cases ({dict(CASES)}); 0 failures unless reported")


@pytest.fixture
def keep_test_connection() -> Any:
    """The real WSGI handler closes the database connection after each request; inside a test
    transaction on PostgreSQL that kills the test's own connection. Django's test client
    disconnects the same signal handlers for the same reason."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(
    db: None, settings: Any, lenient_policy: Any, keep_test_connection: None
) -> dict[str, str]:
    from civility.accounts.commands.createuser import create_user
    from civility.discussion.services import issue_api_token
    from tests.discussion.conftest import make_article

    settings.CIVILITY_WRITE_LIMITS_ENABLED = False
    settings.CIVILITY_RATE_POST = settings.CIVILITY_RATE_REPORT = "100000/60"
    settings.CIVILITY_RATE_TOKEN = "100000/60"
    make_article(slug="fuzz")
    user = create_user("fuzz@example.org", "S3cure-pass!")
    return {"user": user, "issue": issue_api_token}  # type: ignore[dict-item]


@schema.parametrize()
@FUZZ
def test_no_request_makes_the_api_fail(case: Any, bearer: dict[str, Any]) -> None:
    CASES[f"safety {case.method} {case.path}"] += 1
    raw, _token = bearer["issue"](bearer["user"], name="fuzz")  # fresh: DELETE revokes it
    case.call_and_validate(headers={"Authorization": f"Bearer {raw}"}, checks=SAFETY_CHECKS)


@schema.parametrize()
@FUZZ
def test_every_answer_is_documented(case: Any, bearer: dict[str, Any]) -> None:
    CASES[f"{case.method} {case.path}"] += 1
    raw, _token = bearer["issue"](bearer["user"], name="fuzz")
    case.call_and_validate(headers={"Authorization": f"Bearer {raw}"}, checks=CONFORMANCE_CHECKS)


# Found by the long run (docs/security.md, "Fuzzing"): both were server errors on PostgreSQL.
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/articles?page=813440540198744902074368", None),
        ("get", "/api/articles/fuzz/comments?page=9223372036854775807", None),
        ("post", "/api/auth/token", {"email": "\u0000", "password": "x"}),
        ("post", "/api/articles/fuzz/comments", {"text": "hello\u0000"}),
        ("post", "/api/comments/1/report", {"rule": "insult", "note": "\u0000"}),
    ],
)
def test_inputs_the_fuzzer_found_are_refused_with_400(
    method: str, path: str, body: dict[str, str] | None, bearer: dict[str, Any]
) -> None:
    from django.test import Client

    raw, _token = bearer["issue"](bearer["user"], name="fuzz")
    client = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {raw}"})
    if body is None:
        response = client.get(path)
    else:
        response = client.post(path, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"detail", "message"}
