"""Rule 15: malicious links, the operator's blocklist, and the site's allow/deny domains."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards.analysis import analyse
from civility.standards.detectors.links import (
    _ARTICLE_SLUG,
    MalwareLinkDetector,
    registered_domain,
    url_features,
)
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import Policy, default_policy
from civility.standards.types import Comment, Finding


def finding(text: str, policy: Policy | None = None) -> Finding:
    return MalwareLinkDetector(policy or default_policy()).detect(
        analyse(Comment(text)), EMPTY_CONTEXT
    )["malware_link"]


@pytest.mark.parametrize(
    "text",
    [
        "Read https://www.nytimes.com/2024/05/01/world/europe/peace-talks-resume-in-geneva.html",
        "Source: https://en.wikipedia.org/wiki/Bridge",
        "the figures are on www.ons.gov.uk/economy/inflation",
        "No link at all, e.g. this sentence. End.",
    ],
)
def test_ordinary_links_pass(text: str) -> None:
    assert finding(text).score < 0.5


@pytest.mark.parametrize(
    ("text", "at_least"),
    [
        ("free movie http://files.example.com/player-setup.exe", 0.9),
        ("install this http://203.0.113.7/app.apk", 0.9),
        ("verify your account http://paypal-secure-login.com/webscr/verify.php", 0.9),
        ("look http://192.168.4.20/", 0.5),
        ("click bit.ly/3xYzAb", 0.5),
    ],
)
def test_dangerous_links_are_flagged(text: str, at_least: float) -> None:
    result = finding(text)
    assert result.score >= at_least
    (evidence,) = result.evidence
    assert evidence.url and text[evidence.start : evidence.end] == evidence.url


def test_blocklist_file_from_policy_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocklist = tmp_path / "blocklist.txt"
    blocklist.write_text("# feed\nbad-downloads.example\n", encoding="utf-8")
    policy = Policy.from_dict(
        {"extra": {"malware_blocklist": str(blocklist)}}, base=default_policy()
    )
    assert finding("see https://cdn.bad-downloads.example/news", policy).score >= 0.99
    assert finding("see https://cdn.bad-downloads.example/news").score < 0.5
    monkeypatch.setenv("CIVILITY_MALWARE_BLOCKLIST", str(blocklist))
    assert finding("see https://bad-downloads.example/").score >= 0.99


def test_shipped_blocklist_and_deny_and_allow_domains() -> None:
    assert finding("get it at http://malware.test/x").score >= 0.99
    denying = Policy.from_dict({"deny_domains": ["rival.example"]}, base=default_policy())
    assert finding("https://www.rival.example/page", denying).score >= 0.99
    allowing = Policy.from_dict({"allow_domains": ["intranet.example"]}, base=default_policy())
    assert finding("http://10.0.0.1.intranet.example/setup.exe", allowing).score == 0


def test_features_and_registered_domain() -> None:
    assert registered_domain("login.paypal.example.co.uk") == "example.co.uk"
    assert "ip_host" in url_features("http://8.8.8.8/x")
    assert "brand_outside_domain" in url_features("http://paypal.com.secure-check.example/login")
    assert "brand_outside_domain" not in url_features("https://www.paypal.com/signin")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_never_crashes(text: str) -> None:
    first = finding(text)
    assert 0 <= first.score <= 1
    assert first.score == finding(text).score


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"https?://[a-z0-9.\-]{1,30}(:\d{1,6})?/[\x21-\x7e]{0,40}", fullmatch=True))
def test_arbitrary_urls_never_crash(url: str) -> None:
    assert 0 <= finding(f"look {url} now").score <= 1


ARTICLE_SLUG_PLAIN = re.compile(r"[a-z]+(?:-[a-z0-9]+){3,}", re.IGNORECASE)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["a", "B", "1", "-", "-", ".", "_", "/", "é", "z9"])).map("".join))
def test_the_article_slug_test_is_the_plain_pattern_in_linear_time(segment: str) -> None:
    """It only starts where a run of letters starts, so that a path of 10,000 letters takes
    linear time (the plain form: 1 s); the answer must be the plain form's."""
    assert bool(_ARTICLE_SLUG.search(segment)) == bool(ARTICLE_SLUG_PLAIN.search(segment))
