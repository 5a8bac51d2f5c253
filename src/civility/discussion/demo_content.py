"""Demo discussions: readers' comments under the demo articles, judged by the real engine.

A newcomer who runs ``make run`` should see what a moderated discussion looks like: threads
with replies, and a moderator queue with something in it. The comments in
demo/discussions.jsonl (written by the team) are posted through ``services.post_comment``, so
the moderation engine decides each one as it would on a live site: most are published; an
insult, a get-rich-quick advert, a comment in capitals, a phone number, a comment in German,
an off-topic question and a petition posted three times by three readers (a flash mob) end
up held for a moderator or removed, with their evidence; the German comment's author asks for
a review of its removal. Their times are then spread over the
hours after each article was published.

Loading is idempotent: nothing happens once any demo reader has a comment. The demo readers'
accounts have no usable password (nobody signs in as them).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Any

from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus

DEMO_READER_DOMAIN = "readers.demo.civility.invalid"
DEMO_READERS: dict[str, str] = {
    "maria": "Maria Keller",
    "henrik": "Henrik Dahl",
    "dmitri": "Dmitri Volkov",
    "grace": "Grace Liu",
    "owen": "Owen Price",
    "chloe": "Chloe Martin",
    "sam": "Sam Okafor",
    "priya": "Priya Nair",
    "jonas": "Jonas Berg",
    "ben": "Ben Carter",
    "lucia": "Lucía Ortega",
    "aisha": "Aisha Rahman",
    "tom": "Tom Reid",
    "fatima": "Fatima Zahra",
    "anna": "Anna Sato",
}
# Members of the newsroom among them: their comments carry the "Staff" badge.
DEMO_STAFF = frozenset({"anna"})


@dataclass(frozen=True, slots=True)
class DemoComment:
    key: str
    article: str  # the article's slug
    author: str  # a key of DEMO_READERS
    text: str
    minutes: int  # after the article's publication
    reply_to: str = ""  # the key of the comment it answers
    # What the team wrote it to show: "published", or "held or removed" with the ``rule``
    # it breaks (tests check the engine agrees; the loader posts it either way).
    expected: str = "published"
    rule: str = ""
    featured: bool = False  # an editors' pick of the demo moderator, when published
    recommended_by: tuple[str, ...] = ()  # demo readers (keys) who recommend it
    review: str = ""  # when removed, the author asks for a review, explaining this


def demo_comments() -> list[DemoComment]:
    text = (
        resources.files("civility.discussion")
        .joinpath("demo/discussions.jsonl")
        .read_text(encoding="utf-8")
    )
    items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [
        DemoComment(**{**item, "recommended_by": tuple(item.get("recommended_by", ()))})
        for item in items
    ]


def demo_reader_email(key: str) -> str:
    return f"{key}@{DEMO_READER_DOMAIN}"


def _demo_readers() -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from civility.accounts.commands.createuser import create_user

    user_model = get_user_model()
    readers: dict[str, Any] = {}
    for key, name in DEMO_READERS.items():
        user = user_model.objects.filter(email__iexact=demo_reader_email(key)).first()
        if user is None:
            user = create_user(demo_reader_email(key), secrets.token_urlsafe(24), display_name=name)
            user.set_unusable_password()
            user.staff_badge = key in DEMO_STAFF
            user.save(update_fields=["password", "staff_badge"])
        readers[key] = user
    return readers


def load_demo_discussions() -> dict[str, int]:
    """Post the demo comments under the demo articles that exist; returns how many comments
    ended in each status (empty when they were loaded before)."""
    from civility.discussion.services import (
        post_comment,
        recommend_comment,
        thread_for_article,
    )
    from civility.news.models import Article

    if Comment.objects.filter(author__email__endswith=f"@{DEMO_READER_DOMAIN}").exists():
        return {}
    comments = demo_comments()
    articles = {
        article.slug: article
        for article in Article.objects.filter(slug__in={c.article for c in comments})
    }
    readers = _demo_readers()
    posted: dict[str, Comment] = {}
    counts: dict[str, int] = {}
    now = timezone.now()
    for item in comments:
        article = articles.get(item.article)
        if article is None:
            continue
        parent = posted.get(item.reply_to) if item.reply_to else None
        if item.reply_to and (parent is None or parent.status != CommentStatus.PUBLISHED):
            continue  # the comment it answers is not in public view
        outcome = post_comment(
            author=readers[item.author],
            thread=thread_for_article(article),
            text=item.text,
            parent=parent,
        )
        posted[item.key] = comment = outcome.comment  # decided, when inline, in place
        counts[comment.status] = counts.get(comment.status, 0) + 1
    # Dated only once all are decided: the cross-comment rules (flash_mob, flood) look at the
    # comments of the last hour, and the petition's three copies must meet there.
    for item in comments:
        if item.key in posted:
            published_at = articles[item.article].published_at
            moment = min(published_at + timedelta(minutes=item.minutes), now)
            _move_to(Comment.objects.get(pk=posted[item.key].pk), moment)
    _feature([posted[item.key] for item in comments if item.featured and item.key in posted])
    _ask_for_reviews(
        [(posted[item.key], item.review) for item in comments if item.review and item.key in posted]
    )
    for item in comments:
        recommended = posted.get(item.key)
        if recommended is not None and recommended.status == CommentStatus.PUBLISHED:
            for key in item.recommended_by:
                recommend_comment(comment=recommended, reader=readers[key])
    return counts


def _feature(comments: list[Comment]) -> None:
    """The demo moderator's editors' picks (no moderator account: picked by nobody)."""
    from django.contrib.auth import get_user_model

    from civility.moderation.services import set_featured
    from civility.news.demo_content import DEMO_MODERATOR

    moderator = get_user_model().objects.filter(email__iexact=DEMO_MODERATOR.email).first()
    for comment in comments:
        if comment.status == CommentStatus.PUBLISHED:
            set_featured(comment, moderator=moderator, featured=True)


def _ask_for_reviews(requests: list[tuple[Comment, str]]) -> None:
    """Demo readers contest removals, so the moderator finds a request under Reviews."""
    from civility.moderation.services import request_review, review_refusal_reason

    for comment, explanation in requests:
        comment.refresh_from_db()
        if not review_refusal_reason(comment, comment.author):
            request_review(comment, user=comment.author, explanation=explanation)


def _move_to(comment: Comment, moment: Any) -> None:
    """Date the comment (and its decision, a few seconds later) as if posted at ``moment``;
    saved through the model so the thread's cached pages and counts are dropped."""
    comment.created_at = moment
    fields = ["created_at"]
    if comment.decided_at is not None:
        comment.decided_at = moment + timedelta(seconds=2)
        fields.append("decided_at")
    if comment.engine_checked_at is not None:
        comment.engine_checked_at = moment + timedelta(seconds=1)
        fields.append("engine_checked_at")
    comment.save(update_fields=fields)
