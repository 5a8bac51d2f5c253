"""The read cache: anonymous thread reads come from the cache, and a new comment is visible
within 1 s (the cache keeps an entry for at most CIVILITY_READ_CACHE_SECONDS)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client, override_settings

from civility.discussion.services import post_comment, thread_for_article
from tests.ops.conftest import DEAD_REDIS_CACHE

CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."
MAX_AGE = 0.5
# For tests about hits: long enough that a slow machine's rendering never ages an entry out.
LONG_AGE = 60.0


@pytest.fixture
def read_cache_on(settings: Any) -> None:
    from civility.ops import readcache

    settings.CIVILITY_READ_CACHE_SECONDS = MAX_AGE
    # Each test's rows are rolled back, so SQLite hands the next test the same thread ids: the
    # process's thread-id -> thread-key memo must not carry an earlier test's articles.
    readcache._thread_keys.clear()


def texts(response: Any) -> list[str]:
    return [item["text"] for item in response.json()["items"]]


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_new_comment_is_visible_within_one_second(reader: Any, article: Any) -> None:
    url = f"/api/articles/{article.slug}/comments"
    thread = thread_for_article(article)
    post_comment(author=reader, thread=thread, text=CLEAN)
    first = Client().get(url)
    assert first["X-Civility-Cache"] == "miss" and texts(first) == [CLEAN]

    newer = CLEAN + " A second view."
    assert post_comment(author=reader, thread=thread, text=newer).status == "published"
    published_at = time.monotonic()
    # Served from the cache, the page may lag behind for up to MAX_AGE seconds...
    soon = Client().get(url)
    if soon["X-Civility-Cache"] == "hit":
        assert texts(soon) == [CLEAN]
    # ...and never longer: the first read after that shows the new comment.
    time.sleep(max(0.0, MAX_AGE - (time.monotonic() - published_at)) + 0.01)
    later = Client().get(url)
    assert newer in texts(later)
    assert MAX_AGE < 1.0


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_repeated_anonymous_reads_are_served_from_the_cache(
    reader: Any, article: Any, settings: Any
) -> None:
    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE
    post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    url = f"/api/articles/{article.slug}/comments"
    first, second = Client().get(url), Client().get(url)
    assert (first["X-Civility-Cache"], second["X-Civility-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    # A different page of the same thread is a different entry.
    assert Client().get(url + "?page=2")["X-Civility-Cache"] == "miss"


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_signed_in_readers_always_reach_the_view(reader_client: Any, article: Any) -> None:
    url = f"/api/articles/{article.slug}/comments"
    Client().get(url)
    assert "X-Civility-Cache" not in reader_client.get(url)
    assert "X-Civility-Cache" not in Client(HTTP_AUTHORIZATION="Bearer x").get(url)


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_responses_that_set_cookies_or_fail_are_not_stored(article: Any) -> None:
    missing = "/api/articles/no-such-article/comments"
    assert Client().get(missing).status_code == 404
    assert Client().get(missing)["X-Civility-Cache"] == "miss"
    page = article.get_absolute_url()
    first = Client().get(page)
    second = Client().get(page)
    if first.cookies:  # the article page sets a CSRF cookie: it must not be shared
        assert second["X-Civility-Cache"] == "miss"
        assert not any(k.lower() == "set-cookie" for k, _ in second.items()) or second.cookies


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy")
def test_cache_off_by_default_in_tests_and_when_zero(settings: Any, article: Any) -> None:
    settings.CIVILITY_READ_CACHE_SECONDS = 0
    assert "X-Civility-Cache" not in Client().get(f"/api/articles/{article.slug}/comments")


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_reads_keep_working_when_the_cache_is_down(reader: Any, article: Any) -> None:
    post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    with override_settings(CACHES=DEAD_REDIS_CACHE):
        response = Client().get(f"/api/articles/{article.slug}/comments")
    assert response.status_code == 200 and texts(response) == [CLEAN]


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_cache_hits_are_counted_under_the_route(article: Any, settings: Any) -> None:
    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE
    from tests.ops.test_metrics import scrape, value

    url = f"/api/articles/{article.slug}/comments"
    for _ in range(3):
        Client().get(url)
    metrics = scrape()
    route = "/api/articles/<slug>/comments"
    assert (
        value(
            metrics["civility_read_cache_lookups"],
            "civility_read_cache_lookups_total",
            result="hit",
        )
        >= 2
    )
    assert (
        value(metrics["civility_http_requests"], "civility_http_requests_total", route=route) >= 3
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_one_request_refreshes_an_ageing_entry_while_the_others_serve_it(article: Any) -> None:
    from django.core.cache import cache
    from django.test import RequestFactory

    from civility.ops.readcache import cache_key

    url = f"/api/articles/{article.slug}/comments"
    Client().get(url)
    key = cache_key(RequestFactory().get(url))
    stamp, *rest = cache.get(key)
    # In the second half of its life: one request takes the lock and renders a fresh copy...
    cache.set(key, (time.time() - MAX_AGE * 0.75, *rest))
    cache.add(key + ":lock", 1)
    assert Client().get(url)["X-Civility-Cache"] == "hit"  # ...the others keep serving it
    cache.delete(key + ":lock")
    assert Client().get(url)["X-Civility-Cache"] == "miss"
    assert time.time() - cache.get(key)[0] < MAX_AGE / 2
    assert stamp > 0


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_expired_entries_are_never_served(article: Any) -> None:
    from django.core.cache import cache
    from django.test import RequestFactory

    from civility.ops.readcache import cache_key

    url = f"/api/articles/{article.slug}/comments"
    Client().get(url)
    key = cache_key(RequestFactory().get(url))
    _stamp, *rest = cache.get(key)
    cache.set(key, (time.time() - MAX_AGE - 0.01, *rest))
    # Another process holds the lock but never stores: the request renders for itself.
    cache.add(key + ":lock", 1)
    started = time.monotonic()
    response = Client().get(url)
    assert response["X-Civility-Cache"] == "miss"
    assert time.monotonic() - started >= 0  # it waited for the renderer, then rendered
    cache.delete(key + ":lock")


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_a_published_comment_invalidates_its_thread_at_once(
    reader: Any, article: Any, settings: Any
) -> None:
    from tests.discussion.conftest import make_article

    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE  # only the invalidation can refresh it
    thread = thread_for_article(article)
    other = make_article("budget-debate", headline="The budget debate")
    post_comment(author=reader, thread=thread, text=CLEAN)
    urls = [
        f"/news/{article.slug}/discussion/",
        f"/api/articles/{article.slug}/comments",
        f"/news/{other.slug}/discussion/",
    ]
    for url in urls:
        Client().get(url)
        assert Client().get(url)["X-Civility-Cache"] == "hit"
    newer = CLEAN + " A second view."
    assert post_comment(author=reader, thread=thread, text=newer).status == "published"
    section, listing, elsewhere = (Client().get(url) for url in urls)
    assert section["X-Civility-Cache"] == "miss" and newer in section.content.decode()
    assert listing["X-Civility-Cache"] == "miss" and newer in texts(listing)
    assert elsewhere["X-Civility-Cache"] == "hit"  # another thread's entries stay


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_anonymous_comment_sections_are_served_from_the_cache(
    reader: Any, article: Any, settings: Any
) -> None:
    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE
    post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    url = f"/news/{article.slug}/discussion/"
    first, second = Client().get(url), Client().get(url)
    assert (first["X-Civility-Cache"], second["X-Civility-Cache"]) == ("miss", "hit")
    assert second.content == first.content and CLEAN in second.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_a_process_serves_its_own_copy_until_a_comment_is_saved(
    reader: Any, article: Any, settings: Any
) -> None:
    from django.core.cache import cache
    from django.test import RequestFactory

    from civility.ops.readcache import cache_key, forget_local

    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE
    settings.CIVILITY_READ_CACHE_LOCAL_SECONDS = LONG_AGE
    forget_local()
    thread = thread_for_article(article)
    post_comment(author=reader, thread=thread, text=CLEAN)
    url = f"/news/{article.slug}/discussion/"
    first = Client().get(url)
    cache.delete(cache_key(RequestFactory().get(url)))  # Redis no longer has it...
    second = Client().get(url)  # ...and this process does not ask
    assert (first["X-Civility-Cache"], second["X-Civility-Cache"]) == ("miss", "hit")
    assert second.content == first.content
    newer = CLEAN + " A second view."
    assert post_comment(author=reader, thread=thread, text=newer).status == "published"
    third = Client().get(url)
    assert third["X-Civility-Cache"] == "miss" and newer in third.content.decode()
    forget_local()


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_a_path_prefix_sites_threads_are_cached_and_invalidated(reader: Any, settings: Any) -> None:
    from civility.sites.models import Site
    from tests.discussion.conftest import make_article

    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE
    site = Site.objects.create(name="Civility по-русски", path_prefix="ru", language="ru")
    article = make_article("peregovory", site=site)
    thread = thread_for_article(article)
    post_comment(author=reader, thread=thread, text=CLEAN)
    url = f"/ru/news/{article.slug}/discussion/"
    first, second = Client().get(url), Client().get(url)
    assert first.status_code == 200 and CLEAN in first.content.decode()
    assert (first["X-Civility-Cache"], second["X-Civility-Cache"]) == ("miss", "hit")
    newer = CLEAN + " A second view."
    assert post_comment(author=reader, thread=thread, text=newer).status == "published"
    third = Client().get(url)
    assert third["X-Civility-Cache"] == "miss" and newer in third.content.decode()


@pytest.fixture
def fast_lane_get(settings: Any) -> Any:
    """GET through FastLane in front of Django's WSGI handler, as gunicorn serves it; returns
    (status, headers, body) and counts the requests that reached Django."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_started
    from django.db import close_old_connections
    from django.test import RequestFactory

    from civility.ops.readcache import FastLane, forget_local

    django_application = WSGIHandler()
    reached: list[str] = []

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        reached.append(environ["PATH_INFO"])
        return django_application(environ, start_response)

    lane = FastLane(application)

    def get(url: str, **extra: Any) -> tuple[str, dict[str, str], bytes]:
        environ = RequestFactory().get(url, **extra).environ
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            answer["status"], answer["headers"] = status, dict(headers)

        body = b"".join(lane(environ, start_response))
        return answer["status"], answer["headers"], body

    get.reached = reached  # type: ignore[attr-defined]
    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE
    settings.CIVILITY_READ_CACHE_LOCAL_SECONDS = LONG_AGE
    forget_local()
    # As the test client does: the test's transaction must outlive these requests.
    request_started.disconnect(close_old_connections)
    try:
        yield get
    finally:
        request_started.connect(close_old_connections)
        forget_local()


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_the_fast_lane_serves_the_process_copy_before_django(
    reader: Any, article: Any, settings: Any, fast_lane_get: Any
) -> None:
    thread = thread_for_article(article)
    post_comment(author=reader, thread=thread, text=CLEAN)
    url = f"/news/{article.slug}/discussion/"
    first = fast_lane_get(url)  # Django renders it and learns the request
    second = fast_lane_get(url)
    assert fast_lane_get.reached == [url]
    assert (first[1]["X-Civility-Cache"], second[1]["X-Civility-Cache"]) == ("miss", "hit")
    assert second[0] == first[0] == "200 OK" and second[2] == first[2]
    same = {k: v for k, v in second[1].items() if k != "X-Civility-Cache"}
    assert same == {k: v for k, v in first[1].items() if k != "X-Civility-Cache"}
    # Signed-in readers, API clients, other languages and other pages always reach Django.
    fast_lane_get(url, HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}=abc")
    fast_lane_get(url, HTTP_AUTHORIZATION="Bearer x")
    fast_lane_get(url, HTTP_ACCEPT_LANGUAGE="fr")
    fast_lane_get(url + "?page=2")
    assert len(fast_lane_get.reached) == 5
    # A published comment drops the copies: the next read renders it.
    newer = CLEAN + " A second view."
    assert post_comment(author=reader, thread=thread, text=newer).status == "published"
    third = fast_lane_get(url)
    assert third[1]["X-Civility-Cache"] == "miss" and newer in third[2].decode()
    assert len(fast_lane_get.reached) == 6


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_the_fast_lane_never_serves_an_entry_older_than_the_maximum_age(
    reader: Any, article: Any, settings: Any, fast_lane_get: Any
) -> None:
    post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    url = f"/api/articles/{article.slug}/comments"
    fast_lane_get(url)
    assert fast_lane_get(url)[1]["X-Civility-Cache"] == "hit"
    settings.CIVILITY_READ_CACHE_SECONDS = 0.05
    time.sleep(0.06)
    assert fast_lane_get(url)[1]["X-Civility-Cache"] == "miss"
    settings.CIVILITY_READ_CACHE_SECONDS = 0
    assert "X-Civility-Cache" not in fast_lane_get(url)[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_a_comment_marks_its_thread_changed_again_when_its_transaction_commits(
    reader: Any, article: Any
) -> None:
    """A reader rendering between the save and the commit sees the old rows; the mark made at
    commit time is later than its entry's stamp, so that entry is never served."""
    from django.core.cache import cache
    from django.db import transaction

    from civility.ops import readcache

    thread = thread_for_article(article)
    changed = readcache.changed_key(readcache._thread_key_for_id(thread.pk))
    with transaction.atomic():
        assert post_comment(author=reader, thread=thread, text=CLEAN).status == "published"
        marked_at_save = cache.get(changed)
        assert marked_at_save is not None
        time.sleep(0.02)  # a reader's rendering would be stamped in here
        assert cache.get(changed) == marked_at_save
    assert cache.get(changed) > marked_at_save


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_clients_that_accept_gzip_get_the_compressed_copy(
    reader: Any, article: Any, fast_lane_get: Any
) -> None:
    import gzip

    thread = thread_for_article(article)
    for n in range(5):  # a page large enough to be worth compressing
        post_comment(author=reader, thread=thread, text=f"{CLEAN} ({n})")
    url = f"/news/{article.slug}/discussion/"
    plain = fast_lane_get(url)
    assert plain[1]["X-Civility-Cache"] == "miss" and "Content-Encoding" not in plain[1]
    assert "Accept-Encoding" in plain[1]["Vary"]
    for lane in (fast_lane_get, None):  # the process's copy, then Redis's through Django
        if lane is None:
            from civility.ops.readcache import forget_local

            forget_local()
            lane = fast_lane_get
        status, headers, body = lane(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert status == "200 OK" and headers["X-Civility-Cache"] == "hit"
        assert headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in headers["Vary"]
        assert int(headers["Content-Length"]) == len(body) < len(plain[2])
        assert gzip.decompress(body) == plain[2]
    # No Accept-Encoding, or gzip refused: the page as it is.
    for refused in ({}, {"HTTP_ACCEPT_ENCODING": "gzip;q=0, identity"}):
        status, headers, body = fast_lane_get(url, **refused)
        assert "Content-Encoding" not in headers and body == plain[2]


def test_accept_encoding_parsing() -> None:
    from civility.ops.readcache import accepts_gzip

    assert accepts_gzip("gzip")
    assert accepts_gzip("deflate, GZIP;q=0.5, br")
    assert not accepts_gzip("")
    assert not accepts_gzip("br, deflate")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("gzip; q=0.0")


def cached_section(reader: Any, article: Any, settings: Any) -> tuple[Any, str]:
    """The article's thread with one published comment, and its comment section's URL, the
    page cached (and only a change can refresh it)."""
    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE
    thread = thread_for_article(article)
    post_comment(author=reader, thread=thread, text=CLEAN)
    url = f"/news/{article.slug}/discussion/"
    Client().get(url)
    assert Client().get(url)["X-Civility-Cache"] == "hit"
    return thread, url


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_a_comment_that_stays_pending_leaves_the_cached_thread_alone(
    reader: Any, article: Any, settings: Any
) -> None:
    """On a busy article each held comment's verdict once sent every next reader to render
    the whole thread again, for a change no anonymous reader sees."""
    from civility.discussion.models import Comment, CommentStatus
    from civility.discussion.services import hold_for_review

    thread, url = cached_section(reader, article, settings)

    held = Comment.objects.create(
        thread=thread, author=reader, text="Waiting for the engine.", status="pending"
    )
    assert hold_for_review(held.pk, error="the engine failed") is not None  # a saved row
    held.text = "Edited while pending."
    held.save()  # the instance that created it
    assert Client().get(url)["X-Civility-Cache"] == "hit"

    unknown = Comment.objects.only("id", "thread").get(pk=held.pk)
    unknown.save(update_fields=["thread"])  # its status was not read: counted as a change
    assert Client().get(url)["X-Civility-Cache"] == "miss"

    published = Comment.objects.get(pk=held.pk)
    published.status = CommentStatus.PUBLISHED
    published.save()
    page = Client().get(url)
    assert page["X-Civility-Cache"] == "miss"
    assert "Edited while pending." in page.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_while_another_request_renders_a_changed_thread_readers_get_the_page_as_it_was(
    reader: Any, article: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For STALE_SECONDS after a change, not after: then they wait for the render or make it."""
    from civility.ops.readcache import ReadCache

    thread, url = cached_section(reader, article, settings)
    newer = CLEAN + " Said a minute later."
    assert post_comment(author=reader, thread=thread, text=newer).status == "published"

    monkeypatch.setattr(ReadCache, "_lock", staticmethod(lambda key: False))  # another renders
    stale = Client().get(url)
    assert stale["X-Civility-Cache"] == "stale"
    assert CLEAN in stale.content.decode() and newer not in stale.content.decode()

    time.sleep(ReadCache.STALE_SECONDS + 0.1)
    monkeypatch.setattr(ReadCache, "_locked", staticmethod(lambda key: False))  # it gave up
    page = Client().get(url)
    assert page["X-Civility-Cache"] == "miss" and newer in page.content.decode()


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_recommendations_leave_the_cached_pages_in_place_new_comments_do_not(
    reader: Any, other_reader: Any, article: Any, settings: Any
) -> None:
    from civility.discussion.services import recommend_comment

    settings.CIVILITY_READ_CACHE_SECONDS = LONG_AGE
    thread = thread_for_article(article)
    comment = post_comment(author=reader, thread=thread, text=CLEAN).comment
    url = f"/api/articles/{article.slug}/comments"
    assert Client().get(url)["X-Civility-Cache"] == "miss"
    recommend_comment(comment=comment, reader=other_reader)
    # A busy article's recommendations would otherwise empty its cached pages many times a
    # second: the count shown to signed-out readers lags by at most the cache's age.
    cached = Client().get(url)
    assert cached["X-Civility-Cache"] == "hit"
    assert cached.json()["items"][0]["recommendations"] == 0
    post_comment(author=other_reader, thread=thread, text=CLEAN + " Agreed.")
    fresh = Client().get(url)
    assert fresh["X-Civility-Cache"] == "miss"
    assert [item["recommendations"] for item in fresh.json()["items"]] == [1, 0]


@pytest.mark.django_db
@pytest.mark.usefixtures("lenient_policy", "read_cache_on")
def test_a_batch_of_decisions_marks_its_thread_once_and_readers_see_them_all(
    reader: Any, article: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker deciding 200 comments of one thread once made 400 round trips to the cache;
    the thread is now marked once (and once more at commit), and the page still changes."""
    from civility.discussion.models import Comment
    from civility.discussion.services import apply_engine_verdicts
    from civility.ops import readcache
    from civility.standards.engine import Engine
    from civility.standards.policy import default_policy
    from civility.standards.types import Comment as EngineComment

    thread, url = cached_section(reader, article, settings)
    pending = [
        Comment.objects.create(
            thread=thread, author=reader, text=f"Batch comment number {n}.", status="pending"
        )
        for n in range(5)
    ]
    policy = default_policy()
    verdicts = Engine(policy, detectors=[]).check_many([EngineComment(c.text) for c in pending])
    marked: list[int] = []
    real_mark = readcache._mark_thread_changed
    monkeypatch.setattr(
        readcache,
        "_mark_thread_changed",
        lambda thread_id: (marked.append(thread_id), real_mark(thread_id)),
    )
    decided = apply_engine_verdicts(list(zip([c.pk for c in pending], verdicts, strict=True)))
    assert set(decided.values()) == {"published"}
    assert marked == [thread.pk], "once for the batch (the test's transaction never commits)"
    page = Client().get(url)
    assert page["X-Civility-Cache"] == "miss"
    assert all(f"Batch comment number {n}." in page.content.decode() for n in range(5))
