"""Rule 15, malicious links: every URL in the comment is scored; the comment scores its worst.

Per URL, in order:
1. the site's ``allow_domains`` exempt a link (and its subdomains) outright;
2. ``deny_domains`` and the operator's blocklist file score 0.99 (see :func:`blocklist_path`);
3. otherwise a scored URL model: a logistic function of hand-weighted features drawn from
   the phishing and malware-URL literature (IP-literal hosts, brand names outside the
   registered domain, credential words, compromised-CMS paths, executable downloads,
   shorteners, free hosting, punycode...). The weights were set from that domain knowledge,
   not fitted: the only labelled URL set we have (phishing_urls_iscx_phishtank) states no
   licence, so it only *evaluates* the model. Data card: ``standards/models/links.md``.

Calibration against the default policy (queue 0.5, reject 0.9): a plain link to a news
article scores about 0.05; a shortener alone about 0.55 (queued: it hides its target); an
IP-literal host about 0.7; a brand name on a foreign host with a login path, or a direct
download of an executable, 0.9 and more (removed).
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.policy import Policy
from civility.standards.text import FoundUrl
from civility.standards.types import Context, Evidence, Finding

SLUG = "malware_link"
BLOCKLIST_ENV = "CIVILITY_MALWARE_BLOCKLIST"
BLOCKLIST_SCORE = 0.99

# --- feature vocabularies (domain knowledge; see models/links.md) -------------------------
SHORTENERS = frozenset(
    [
        "bit.ly",
        "tinyurl.com",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "cutt.ly",
        "rebrand.ly",
        "shorturl.at",
        "rb.gy",
        "t.ly",
        "tiny.cc",
        "bl.ink",
        "v.gd",
        "qr.ae",
        "adf.ly",
        "bitly.com",
        "s.id",
        "shorte.st",
        "ouo.io",
        "lnkd.in",
        "t.co",
    ]
)
FREE_HOSTING = (
    "000webhostapp.com", "weebly.com", "wixsite.com", "firebaseapp.com", "web.app", "herokuapp.com",
    "blogspot.com", "godaddysites.com", "netlify.app", "glitch.me", "repl.co", "ngrok.io", "duckdns.org",
    "no-ip.org", "ddns.net", "appspot.com", "firebasestorage.googleapis.com", "sites.google.com",
    "forms.office.com", "docs.google.com", "sharepoint.com", "joomla.com", "webcindario.com",
    "ooguy.com", "azurewebsites.net", "pages.dev", "workers.dev", "github.io", "wordpress.com",
    "square.site", "mystrikingly.com", "jimdosite.com", "yolasite.com", "tripod.com", "ucoz.com",
    "webs.com", "ontrapages.com", "1drv.ms", "onedrive.live.com", "drive.google.com",
    "storage.googleapis.com", "myftp.org", "hopto.org", "zapto.org", "bitbucket.io", "surge.sh",
    "codesandbox.io", "myfreesites.net", "byethost.com", "dropbox.com", "dropboxusercontent.com",
    "mediafire.com", "wetransfer.com", "we.tl", "mega.nz", "anonfiles.com", "sendspace.com",
)  # fmt: skip
SUSPICIOUS_TLDS = frozenset(
    [
        "tk",
        "ml",
        "ga",
        "cf",
        "gq",
        "xyz",
        "top",
        "club",
        "online",
        "site",
        "icu",
        "buzz",
        "work",
        "live",
        "pw",
        "cc",
        "cn",
        "ws",
        "info",
        "biz",
        "vip",
        "win",
        "loan",
        "click",
        "link",
        "rest",
        "fit",
        "bid",
        "date",
        "racing",
        "review",
        "country",
        "stream",
        "download",
        "zip",
        "mov",
    ]
)
TRUSTED_SUFFIXES = (".gov", ".edu", ".mil", ".gov.uk", ".ac.uk", ".int", ".europa.eu")
BRANDS = (
    "paypal", "apple", "icloud", "microsoft", "office365", "outlook", "hotmail", "live", "amazon",
    "ebay", "netflix", "wellsfargo", "chase", "bankofamerica", "citibank", "hsbc", "barclays",
    "santander", "dropbox", "docusign", "adobe", "google", "gmail", "facebook", "instagram",
    "whatsapp", "dhl", "fedex", "usps", "ups", "linkedin", "yahoo", "aol", "steam", "binance",
    "coinbase", "metamask", "blockchain", "americanexpress", "amex", "visa", "mastercard",
    "itau", "bradesco", "caixa", "wetransfer", "onedrive", "sharepoint", "irs", "hmrc",
    "centurylink", "telekom", "vodafone", "verizon", "xfinity", "comcast", "sbcglobal", "att",
    "bellsouth", "huawei", "docusign", "dhl", "royalmail", "correos", "poste", "swisscom",
)  # fmt: skip
CREDENTIAL_WORDS = (
    "login", "log-in", "signin", "sign-in", "logon", "verify", "verification", "account", "update",
    "secure", "security", "webscr", "banking", "confirm", "password", "passwd", "wallet", "billing",
    "unlock", "suspend", "recover", "validate", "authenticate", "auth", "customer", "invoice",
    "payment", "ssn", "credential", "reactivate", "limited", "alert",
)  # fmt: skip
CMS_INTERNALS = (
    "wp-admin", "wp-content", "wp-includes", "/includes/", "/plugins/", "/components/", "/modules/",
    "/templates/", "/cgi-bin/", "/administrator/", "/.well-known/", "/vendor/", "/tmp/",
)  # fmt: skip
EXECUTABLE_EXTENSIONS = frozenset(
    [
        "exe",
        "scr",
        "apk",
        "msi",
        "bat",
        "cmd",
        "pif",
        "vbs",
        "vbe",
        "jse",
        "jar",
        "ps1",
        "hta",
        "dll",
        "cpl",
        "msc",
        "wsf",
        "lnk",
        "reg",
        "dmg",
        "deb",
        "rpm",
        "iso",
        "xapk",
        "appx",
        "msix",
    ]
)
ARCHIVE_EXTENSIONS = frozenset(
    ["zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "cab", "ace", "arj"]
)
DOCUMENT_MACRO_EXTENSIONS = frozenset(["docm", "xlsm", "pptm"])
# Scripts are also ordinary web assets (jquery.js?ver=1.2), so they weigh less than programs.
SCRIPT_EXTENSIONS = frozenset(["js", "sh"])
_HASH_SEGMENT = re.compile(r"(?:^|/)(?=[A-Za-z]*\d)(?=\d*[A-Za-z])[0-9a-f]{16,}(?:/|$)")
_TWO_LEVEL_SUFFIXES = frozenset(
    [
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "com.au",
        "net.au",
        "org.au",
        "co.jp",
        "co.kr",
        "co.in",
        "co.za",
        "com.br",
        "com.ar",
        "com.mx",
        "com.tr",
        "com.cn",
        "com.hk",
        "com.sg",
        "com.my",
        "com.ua",
        "co.nz",
        "co.il",
        "com.pl",
        "com.co",
        "com.pe",
        "com.ve",
        "com.ng",
        "com.pk",
        "com.eg",
        "com.sa",
        "com.tw",
        "co.id",
        "co.th",
    ]
)
_ASSET_FOLDER = re.compile(r"/(?:img|images|js|css|assets|fonts|uploads)/")
ASSET_EXTENSIONS = frozenset(
    [
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "webp",
        "ico",
        "css",
        "js",
        "woff",
        "woff2",
        "ttf",
        "eot",
        "mp4",
        "mp3",
        "pdf",
    ]
)
_URL_IN_QUERY = re.compile(r"=(?:https?(?::|%3a)|www\.)", re.IGNORECASE)
# Starts only where a run of letters starts (the look-behind): the same answer (tested against
# the plain form), where a path of 10,000 letters took the plain form 1 s, trying every
# position of the run.
_ARTICLE_SLUG = re.compile(r"(?<![a-z])[a-z]+(?:-[a-z0-9]+){3,}", re.IGNORECASE)

# --- weights (log-odds); the bias puts a plain link at about 0.05 ----------------------------
WEIGHTS = {
    "bias": -3.0,
    "ip_host": 3.8,
    "at_sign": 2.0,
    "punycode": 1.8,
    "executable": 6.5,
    "archive": 3.2,
    "macro_document": 3.5,
    "script": 2.0,
    "hash_segment": 1.0,
    "shortener": 3.2,
    "free_hosting": 2.2,
    "brand_outside_domain": 2.8,
    "credential_words": 1.2,  # per word, at most three
    "cms_internals": 2.0,
    "php": 0.8,
    "suspicious_tld": 1.5,
    "many_subdomains": 0.9,  # per level beyond two
    "hyphenated_domain": 0.9,
    "digits_in_domain": 0.7,
    "long_domain": 0.7,
    "nonstandard_port": 1.5,
    "scheme_in_host_or_path": 1.4,
    "double_slash_path": 0.8,
    "tilde_path": 0.9,
    "trusted_suffix": -3.0,
    "popular_domain": -2.5,
    "redirect": 1.2,
    "article_slug": -1.4,
}
EXPLANATIONS = {
    "ip_host": "the host is a bare IP address",
    "at_sign": "an @ hides the real host",
    "punycode": "an internationalised (punycode) host can imitate another",
    "executable": "a direct download of a program",
    "archive": "a direct download of an archive",
    "macro_document": "a document with macros",
    "script": "a direct link to a script file",
    "shortener": "a link shortener hides the destination",
    "free_hosting": "free hosting often used for phishing pages",
    "brand_outside_domain": "a brand name outside its own domain",
    "credential_words": "asks for a login or payment details",
    "cms_internals": "a page inside a website's internals (often a hacked site)",
    "suspicious_tld": "a top-level domain common in abuse",
    "many_subdomains": "many subdomains",
    "nonstandard_port": "an unusual port",
    "scheme_in_host_or_path": "'http' written inside the address",
    "redirect": "it forwards to another address",
}


@dataclass(frozen=True, slots=True)
class UrlVerdict:
    url: str
    host: str
    score: float
    reasons: tuple[str, ...]


def registered_domain(host: str) -> str:
    """``login.paypal.example.co.uk`` -> ``example.co.uk`` (common suffixes only)."""
    labels = host.split(".")
    if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LEVEL_SUFFIXES:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _domain_matches(host: str, domains: frozenset[str] | set[str]) -> bool:
    parts = host.split(".")
    return any(".".join(parts[i:]) in domains for i in range(len(parts)))


def _split(url: str) -> tuple[str, str, int | None, str, str]:
    """Host, userinfo, port, path and query of a URL written with or without a scheme."""
    candidate = url if re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE) else "http://" + url
    try:
        parts = urlsplit(candidate)
        port = parts.port
    except ValueError:
        return "", "", None, "", ""
    host = (parts.hostname or "").lower().rstrip(".")
    userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    return host, userinfo, port, parts.path or "", parts.query or ""


def url_features(url: str) -> dict[str, float]:
    host, userinfo, port, path, query = _split(url)
    features: dict[str, float] = {}
    if not host:
        return features
    if host.startswith("www."):
        host = host[4:]  # the scheme and "www." say nothing about intent
    is_ip = False
    try:
        ipaddress.ip_address(host.strip("[]"))
        is_ip = True
    except ValueError:
        is_ip = bool(re.fullmatch(r"\d+", host)) or bool(re.fullmatch(r"0x[0-9a-f]+", host))
    if is_ip:
        features["ip_host"] = 1
    if userinfo:
        features["at_sign"] = 1
    if "xn--" in host:
        features["punycode"] = 1
    decoded_path = unquote(path).lower()
    last_segment = decoded_path.rsplit("/", 1)[-1]
    slug_segment = last_segment or decoded_path.rstrip("/").rsplit("/", 1)[-1]
    is_article = bool(_ARTICLE_SLUG.search(slug_segment))
    # Words in a readable article slug ("google-updates-its-page-layout") are the headline,
    # not a lure: brand and credential words are looked for in the rest of the URL.
    lure_path = decoded_path.replace(slug_segment, " ") if is_article else decoded_path
    extension = last_segment.rsplit(".", 1)[-1] if "." in last_segment else ""
    if extension in EXECUTABLE_EXTENSIONS:
        features["executable"] = 1
    elif extension in SCRIPT_EXTENSIONS:
        features["script"] = 1
    elif extension in ARCHIVE_EXTENSIONS:
        features["archive"] = 1
    elif extension in DOCUMENT_MACRO_EXTENSIONS:
        features["macro_document"] = 1
    elif extension in ("php", "asp", "aspx", "cgi") or ".php" in decoded_path:
        features["php"] = 1
    domain = registered_domain(host) if not is_ip else host
    if host in SHORTENERS or domain in SHORTENERS:
        features["shortener"] = 1
    if any(host == hosting or host.endswith("." + hosting) for hosting in FREE_HOSTING) or re.match(
        r"(?:byethost|freehost|000webhost)\d*\.", domain
    ):
        features["free_hosting"] = 1
    domain_label = domain.split(".")[0]
    # Brands in the query string are mostly tracking parameters (utm_source=google).
    outside = (host[: -len(domain)] if host.endswith(domain) else host) + " " + lure_path
    compact_domain = domain_label.replace("-", "")
    for brand in BRANDS:
        if brand in outside and compact_domain != brand:
            if len(brand) <= 4 and not re.search(rf"(?<![a-z]){brand}(?![a-z])", outside):
                continue  # "ups" inside "groups", "live" inside "delivery"
            features["brand_outside_domain"] = 1
            break
    else:
        if not is_ip and any(
            brand in domain_label and brand != compact_domain for brand in BRANDS if len(brand) >= 5
        ):
            features["brand_outside_domain"] = 1  # paypal-secure-login.com
    text = f"{host} {lure_path} {query.lower()}"
    credential_hits = sum(1 for word in CREDENTIAL_WORDS if word in text)
    if credential_hits:
        features["credential_words"] = min(3, credential_hits)
    if any(marker in decoded_path for marker in CMS_INTERNALS):
        features["cms_internals"] = 1
    elif _ASSET_FOLDER.search(decoded_path) and extension not in ASSET_EXTENSIONS:
        features["cms_internals"] = 1  # a page hidden in a site's image or script folder
    tld = host.rsplit(".", 1)[-1]
    if not is_ip and tld in SUSPICIOUS_TLDS:
        features["suspicious_tld"] = 1
    levels = host.count(".") + 1
    if not is_ip and levels > 3:
        features["many_subdomains"] = min(4, levels - 3)
    if "-" in domain_label:
        features["hyphenated_domain"] = min(2, domain_label.count("-"))
    if not is_ip and sum(ch.isdigit() for ch in domain_label) >= 3:
        features["digits_in_domain"] = 1
    if len(domain_label) > 18:
        features["long_domain"] = 1
    if port not in (None, 80, 443):
        features["nonstandard_port"] = 1
    if re.search(r"https?[^a-z]", host + " " + decoded_path[1:]) or "https" in domain_label:
        features["scheme_in_host_or_path"] = 1
    if "//" in path:
        features["double_slash_path"] = 1
    if _URL_IN_QUERY.search(query):
        features["redirect"] = 1  # a link that forwards to another address
    if "~" in path:
        features["tilde_path"] = 1
    if _HASH_SEGMENT.search(path):
        features["hash_segment"] = 1  # phishing kits put each victim batch under a random id
    if host.endswith(TRUSTED_SUFFIXES):
        features["trusted_suffix"] = 1
    hosted = "free_hosting" in features  # sites.google.com hosts anyone's page
    if not is_ip and not hosted and (domain in popular_domains() or host in popular_domains()):
        features["popular_domain"] = 1
    if is_article and not credential_hits:
        features["article_slug"] = 1
    return features


@cache
def popular_domains() -> frozenset[str]:
    """Well-known sites (``lexicons/popular_domains.txt``)."""
    text = (
        resources.files("civility.standards.lexicons")
        .joinpath("popular_domains.txt")
        .read_text("utf-8")
    )
    lines = (line.split("#", 1)[0] for line in text.splitlines())
    return frozenset(word.lower() for line in lines for word in line.split())


def url_model_score(features: dict[str, float]) -> float:
    logit = WEIGHTS["bias"] + sum(WEIGHTS[name] * value for name, value in features.items())
    return 1.0 / (1.0 + math.exp(-logit))


def blocklist_path(policy: Policy) -> Path | None:
    """policy.extra["malware_blocklist"], else $CIVILITY_MALWARE_BLOCKLIST, else the shipped
    ``lexicons/malware_blocklist.txt``."""
    configured = policy.extra.get("malware_blocklist") or os.environ.get(BLOCKLIST_ENV)
    if configured:
        return Path(str(configured))
    return None


@cache
def _read_blocklist(path: str | None, modified: float) -> frozenset[str]:
    if path is None:
        text = (
            resources.files("civility.standards.lexicons")
            .joinpath("malware_blocklist.txt")
            .read_text("utf-8")
        )
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError:
            return frozenset()
    domains = set()
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip().lower()
        if entry:
            domains.add(entry.removeprefix("*.").removeprefix("www."))
    return frozenset(domains)


def load_blocklist(policy: Policy) -> frozenset[str]:
    """The blocklist's domains. The file is re-read when it changes (operators update it
    without restarting workers)."""
    path = blocklist_path(policy)
    if path is None:
        return _read_blocklist(None, 0.0)
    try:
        modified = path.stat().st_mtime
    except OSError:
        modified = 0.0
    return _read_blocklist(str(path), modified)


class MalwareLinkDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = (SLUG,)
    uses_embedding: ClassVar[bool] = False

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.allowed = {d.lower().removeprefix("www.") for d in policy.allow_domains}
        self.denied = {d.lower().removeprefix("www.") for d in policy.deny_domains}

    def judge(self, url: str) -> UrlVerdict | None:
        host = _split(url)[0]
        if not host:
            return None
        bare = host.removeprefix("www.")
        if self.allowed and _domain_matches(bare, self.allowed):
            return None
        if self.denied and _domain_matches(bare, self.denied):
            return UrlVerdict(url, host, BLOCKLIST_SCORE, ("the site's policy denies this domain",))
        if _domain_matches(bare, load_blocklist(self.policy)):
            return UrlVerdict(
                url, host, BLOCKLIST_SCORE, ("the domain is on the malware blocklist",)
            )
        features = url_features(url)
        score = url_model_score(features)
        reasons = tuple(EXPLANATIONS[name] for name in features if name in EXPLANATIONS)
        return UrlVerdict(url, host, score, reasons)

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        urls: list[FoundUrl] = analysis.urls
        best = 0.0
        evidence: list[Evidence] = []
        for found in urls[:50]:
            verdict = self.judge(found.url)
            if verdict is None:
                continue
            best = max(best, verdict.score)
            if verdict.score >= 0.3:
                explanation = "; ".join(verdict.reasons) or "a suspicious link"
                evidence.append(
                    Evidence(
                        slug=SLUG,
                        explanation=f"link to {verdict.host}: {explanation}",
                        start=found.start,
                        end=found.end,
                        text=found.url,
                        url=found.url,
                    )
                )
        return {SLUG: Finding(score=best, evidence=evidence)}
