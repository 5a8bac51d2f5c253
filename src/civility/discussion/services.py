"""State changes of the discussion app. Each runs in one transaction and writes the audit log.

Posting a comment is two steps (design.md, issue 4):

1. :func:`post_comment` validates and saves the comment as ``pending`` (one transaction);
2. the engine decides (:func:`moderate_comment`): inline before the response by default; with
   a broker, the cheap deterministic rules run inline and the full engine in a Celery task.

Whatever happens to the worker, a comment that was accepted reaches a decision: the task is
acknowledged late, and :func:`moderate_stale_pending` (periodic, and the
``civility manage moderate_pending`` command) decides anything left waiting.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connections, transaction
from django.db.models import Count, Exists, Q, QuerySet, Subquery
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from civility.discussion.context import DatabaseContext
from civility.discussion.engine import current_engines, current_policy
from civility.discussion.errors import (
    CommentsClosed,
    EditNotAllowed,
    InvalidComment,
    PostingNotAllowed,
)
from civility.discussion.models import (
    ApiToken,
    Comment,
    CommentRevision,
    CommentStatus,
    HoldReason,
    IgnoredAuthor,
    Recommendation,
    ReplyInbox,
    Report,
    Thread,
)
from civility.discussion.selectors import forget_ignored_authors, forget_unread_replies
from civility.moderation.audit import audit_recorded, record
from civility.ops.prepared import PreparedQuery
from civility.ops.readcache import one_mark_per_thread
from civility.standards.policy import Policy
from civility.standards.rules import RULES_BY_SLUG, rule_label
from civility.standards.types import Article as EngineArticle
from civility.standards.types import Comment as EngineComment
from civility.standards.types import Decision, Verdict

logger = logging.getLogger(__name__)

ENGINE = "engine"
MODERATOR = "moderator"
# Pending comments the engine still has to decide (new, or edited since its last decision).
AWAITING_ENGINE = (HoldReason.AWAITING_ENGINE, HoldReason.EDITED)


# --- Threads -----------------------------------------------------------------------------


def thread_for_article(article: Any) -> Thread:
    """The article's thread (on the article's site), created on first use."""
    thread = Thread.objects.filter(article=article).first()
    if thread is not None:
        thread.article = article  # the engine reads it; spare a query for what is at hand
        return thread
    try:
        with transaction.atomic():
            return Thread.objects.create(
                article=article, title=str(article.headline)[:300], site_id=article.site_id
            )
    except IntegrityError:  # created by a concurrent request
        return Thread.objects.get(article=article)


def post_context(slug: str, author: Any, client_token: str = "") -> tuple[Thread, AuthorFacts]:
    """What a post to a published article of the request's site needs: its thread with the
    article, and the author's :class:`AuthorFacts`, in one query (a post used to take five:
    the article, its thread, the verified address, the block and the client_token's
    comment). Each query is a round trip, and on a busy host each round trip is a wait for
    PostgreSQL to be scheduled, then for this process again. 404 when there is no such
    article; the article's first comment creates its thread."""
    from civility.sites.current import current_site

    site_id = int(current_site().pk)
    now = timezone.now()
    if not getattr(author, "is_authenticated", False):
        row = _post_context_threads(slug, site_id, now).first()
        return row or _new_thread(slug), author_facts(author, client_token)
    prepared = _POST_CONTEXT_WITH_TOKEN if client_token else _POST_CONTEXT
    values = {"slug": slug, "site_id": site_id, "now": now, "user_id": int(author.pk)}
    if client_token:
        values["client_token"] = client_token
    rows = prepared.fetch(**values)
    if not rows:
        return _new_thread(slug), author_facts(author, client_token)
    row = rows[0]
    return row, _facts_of(author, {name: getattr(row, name, None) for name in AUTHOR_FACT_COLUMNS})


def _new_thread(slug: str) -> Thread:
    """The thread of a published article that has none yet (404 without such an article)."""
    from civility.discussion.selectors import get_published_article_or_404

    return thread_for_article(get_published_article_or_404(slug))


def _post_context_threads(slug: str, site_id: int, now: datetime) -> QuerySet[Thread]:
    from civility.news.selectors import site_articles

    return Thread.objects.select_related("article").filter(
        article__in=site_articles(site_id, now).filter(slug=slug).values("pk")
    )


def _post_context_query(
    slug: str, site_id: int, now: datetime, user_id: int, client_token: str = ""
) -> QuerySet[Thread]:
    """post_context's one query: the thread (with its article) and the author's facts."""
    columns = _author_fact_columns(user_id, client_token)
    return _post_context_threads(slug, site_id, now).annotate(**columns).order_by("pk")[:1]


# Compiled once per process (ops.prepared): building and compiling this query cost 6.7 ms of
# CPU a post, running it 0.3 ms.
_POST_CONTEXT_SLOTS = {"slug": "str", "site_id": "int", "now": "datetime", "user_id": "int"}
_POST_CONTEXT = PreparedQuery("post_context", Thread, _post_context_query, _POST_CONTEXT_SLOTS)
_POST_CONTEXT_WITH_TOKEN = PreparedQuery(
    "post_context_with_token",
    Thread,
    _post_context_query,
    {**_POST_CONTEXT_SLOTS, "client_token": "str"},
)


def thread_for_url(canonical_url: str, title: str = "") -> Thread:
    """The thread of an embedding page, created on first view (the caller checks the origin)
    on the site whose embed was requested."""
    from civility.sites.current import current_site

    thread = Thread.objects.filter(canonical_url=canonical_url).first()
    if thread is not None:
        return thread
    try:
        with transaction.atomic():
            thread = Thread.objects.create(
                canonical_url=canonical_url, title=title[:300], site_id=current_site().pk
            )
            record("thread.created", thread, actor_label="embed", data={"url": canonical_url})
            return thread
    except IntegrityError:
        return Thread.objects.get(canonical_url=canonical_url)


def engine_article(thread: Thread) -> EngineArticle:
    """What the engine knows of the article (off_topic compares the comment with it)."""
    article = thread.article if thread.article_id else None
    if article is None:
        return EngineArticle(title=thread.title, key=thread.key)
    return EngineArticle(
        title=str(getattr(article, "headline", "") or ""),
        lead=str(getattr(article, "lead", "") or ""),
        body=str(getattr(article, "body", "") or ""),
        key=thread.key,
    )


# --- Posting -----------------------------------------------------------------------------


@dataclass
class PostOutcome:
    comment: Comment
    created: bool
    rules: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.comment.status)

    @property
    def message(self) -> str:
        return author_message(self.comment)


def max_comment_length(site: Any = None, *, policy: Policy | None = None) -> int:
    """The longest comment the site accepts (``site`` None: the request's site; ``policy``:
    the site's policy when the caller has read it)."""
    if policy is None:
        policy, _premoderate_all = current_policy(site)
    return min(int(settings.CIVILITY_COMMENT_MAX_LENGTH), int(policy.max_length))


def clean_text(text: Any, site: Any = None, *, policy: Policy | None = None) -> str:
    """Validate a comment's text: not empty, not too long for the site (None: the request's).
    Line endings are normalised."""
    if not isinstance(text, str):
        raise InvalidComment(_("The comment text must be a string."))
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidComment(_("The comment is empty."))
    limit = max_comment_length(site, policy=policy)
    if len(text) > limit:
        raise InvalidComment(
            _("The comment is too long: %(length)d characters; the limit is %(limit)d.")
            % {"length": len(text), "limit": limit}
        )
    return text


@dataclass(frozen=True)
class AuthorFacts:
    """What posting needs to know of its author. ``verified``: active with a verified e-mail
    address (accounts.selectors.is_verified); ``blocked``: barred from posting
    (moderation.selectors.is_blocked); ``existing_comment_id``: the comment the author
    already posted with the request's client_token."""

    verified: bool
    blocked: bool
    existing_comment_id: int | None = None
    suspended: bool = False  # moderation.selectors.suspending_standings


AUTHOR_FACT_COLUMNS = ("author_verified", "author_blocked", "author_suspended", "author_existing")


def _author_fact_columns(user_id: int, client_token: str) -> dict[str, Any]:
    """The SQL expressions of :class:`AuthorFacts` for the user ``user_id``: the querysets of
    accounts.selectors.is_verified and moderation.selectors.is_blocked as subqueries."""
    from civility.accounts.selectors import verified_addresses
    from civility.moderation.selectors import blocking_standings, suspending_standings

    columns: dict[str, Any] = {
        "author_verified": Exists(verified_addresses(user_id)),
        "author_blocked": Exists(blocking_standings(user_id)),
        "author_suspended": Exists(suspending_standings(user_id)),
    }
    if client_token:
        columns["author_existing"] = Subquery(
            Comment.objects.filter(author_id=user_id, client_token=client_token).values("pk")[:1]
        )
    return columns


def _facts_of(user: Any, row: dict[str, Any]) -> AuthorFacts:
    return AuthorFacts(
        verified=bool(getattr(user, "is_active", False) and row.get("author_verified")),
        blocked=bool(row.get("author_blocked")),
        existing_comment_id=row.get("author_existing"),
        suspended=bool(row.get("author_suspended")),
    )


def author_facts(user: Any, client_token: str = "") -> AuthorFacts:
    """:class:`AuthorFacts` in one query instead of one per fact."""
    if not getattr(user, "is_authenticated", False):
        return AuthorFacts(verified=False, blocked=False)
    prepared = _author_facts_prepared(with_token=bool(client_token))
    values: dict[str, Any] = {"user_id": int(user.pk)}
    if client_token:
        values["client_token"] = client_token
    rows = prepared.fetch(**values)
    found = {name: getattr(rows[0], name, None) for name in AUTHOR_FACT_COLUMNS} if rows else {}
    return _facts_of(user, found)


def _author_facts_query(user_id: int, client_token: str = "") -> QuerySet[Any]:
    columns = _author_fact_columns(user_id, client_token)
    users = get_user_model().objects.filter(pk=user_id)
    return users.annotate(**columns).only("pk").order_by("pk")[:1]


_AUTHOR_FACTS: dict[bool, PreparedQuery[Any]] = {}


def _author_facts_prepared(*, with_token: bool) -> PreparedQuery[Any]:
    """author_facts' query, compiled once per process (ops.prepared); made on first use, as
    the user model is only known once the apps are loaded."""
    prepared = _AUTHOR_FACTS.get(with_token)
    if prepared is None:
        slots = {"user_id": "int", "client_token": "str"} if with_token else {"user_id": "int"}
        prepared = PreparedQuery(
            "author_facts_with_token" if with_token else "author_facts",
            get_user_model(),
            _author_facts_query,
            slots,
        )
        _AUTHOR_FACTS[with_token] = prepared
    return prepared


def earlier_post(facts: AuthorFacts) -> PostOutcome | None:
    """The outcome of the comment the author already posted with this client_token (a
    retried post answers with it instead of posting again), or None."""
    if facts.existing_comment_id is None:
        return None
    existing = Comment.objects.filter(pk=facts.existing_comment_id).first()
    if existing is None:
        return None
    return PostOutcome(existing, created=False, rules=comment_rules(existing))


def _ensure_may_write(user: Any, facts: AuthorFacts | None, unverified: str) -> None:
    """Raise unless ``user`` is verified and not blocked (``unverified``: the message for an
    unverified reader); ``facts``: :func:`author_facts` of the user, when already read."""
    if facts is None:
        facts = author_facts(user)
    if not facts.verified:
        raise PostingNotAllowed(unverified)
    if facts.blocked:
        raise PostingNotAllowed(
            _("Your account is blocked: you can read but not post."), blocked=True
        )
    if facts.suspended:
        raise PostingNotAllowed(
            _("Your account is suspended for a while: you can read, and post again once it ends.")
        )


def ensure_may_post(user: Any, thread: Thread, facts: AuthorFacts | None = None) -> None:
    """Raise unless ``user`` may post on ``thread`` (``facts``: :func:`author_facts` of the
    user, when the caller has read them)."""
    _ensure_may_write(user, facts, _("Sign in with a verified e-mail address to comment."))
    from civility.discussion.selectors import comments_closed

    if comments_closed(thread):
        raise CommentsClosed(_("Comments are closed on this article."))


def post_comment(
    *,
    author: Any,
    thread: Thread,
    text: Any,
    parent: Comment | int | str | None = None,
    client_token: str = "",
    ip: str = "",
    client_token_checked: bool = False,
    facts: AuthorFacts | None = None,
) -> PostOutcome:
    """Save a comment as pending, then have it decided. Idempotent on ``client_token``
    (``client_token_checked``: the caller has just looked it up and found no comment; a race
    with another request is still caught by the unique constraint). ``facts``: the author's
    :func:`author_facts` with this client_token, when the caller has read them."""
    client_token = (client_token or "").strip()[:64]
    if facts is None:
        facts = author_facts(author, "" if client_token_checked else client_token)
    earlier = earlier_post(facts)
    if earlier is not None:
        return earlier
    ensure_may_post(author, thread, facts)
    # One policy read serves the length check, the engine and the decision.
    in_force = current_policy(thread.site_id)
    text = clean_text(text, thread.site_id, policy=in_force[0])
    parent_comment = _resolve_parent(thread, parent)
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                thread=thread,
                parent=parent_comment,
                author=author,
                text=text,
                depth=(parent_comment.depth + 1) if parent_comment else 0,
                status=CommentStatus.PENDING,
                client_token=client_token,
                ip_address=ip or None,
            )
            record(
                "comment.posted",
                comment,
                actor=author,
                subject_user=author,
                after={"status": comment.status, "text": text},
                data={"thread": thread.pk, "parent": parent_comment.pk if parent_comment else None},
            )
    except IntegrityError:
        # The same client_token raced another request: that one created the comment.
        existing = Comment.objects.filter(author=author, client_token=client_token).first()
        if existing is None:
            raise
        return PostOutcome(existing, created=False, rules=comment_rules(existing))
    comment.thread = thread
    comment.parent = parent_comment
    decide_new_comment(comment, in_force=in_force)
    return PostOutcome(comment, created=True, rules=comment_rules(comment))


def _resolve_parent(thread: Thread, parent: Comment | int | str | None) -> Comment | None:
    if parent is None or parent == "":
        return None
    if not isinstance(parent, Comment):
        try:
            parent_id = int(parent)
        except (TypeError, ValueError) as exc:
            raise InvalidComment(_("parent_id must be a comment id.")) from exc
        parent = Comment.objects.filter(pk=parent_id).first()
    if parent is None or parent.thread_id != thread.pk:
        raise InvalidComment(_("The comment you reply to is not in this discussion."))
    if (
        parent.status not in (CommentStatus.PUBLISHED, CommentStatus.DELETED)
        or parent.author_hidden
    ):
        raise InvalidComment(_("The comment you reply to is not published."))
    return parent


def broker_configured() -> bool:
    return not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", True)


def decide_new_comment(comment: Comment, *, in_force: tuple[Policy, bool] | None = None) -> None:
    """Inline by default; with a broker, screen inline and queue the full engine.

    ``comment`` is the pending comment just saved, with its thread (and article) and parent
    at hand; a decision made here is written onto it. ``in_force``: the site's policy and
    whether the whole site is pre-moderated, when the caller has read them.
    """
    if not broker_configured():
        _moderate(comment, in_force=in_force, at_posting=True)
        return
    try:
        # The screen reads no context (discussion.engine): the cross-comment rules run in the
        # worker, so a post costs no read of the recent comments.
        verdict = current_engines(comment.site_id, in_force=in_force).screen.check(
            _engine_comment(comment)
        )
    except Exception:  # the full engine in the worker will decide
        logger.exception("inline screen of comment %s failed", comment.pk)
        verdict = None
    if verdict is not None and verdict.decision is Decision.REJECT:
        _apply_onto(comment, verdict, stage="screen", in_force=in_force, at_posting=True)
        return
    enqueue_moderation(comment.pk)


def enqueue_moderation(comment_id: int) -> None:
    """Send the comment to a worker once the transaction commits, and in a web request once
    its response is sent (ops.after_response: the author's answer does not wait for the
    broker); decide inline if the broker refuses (nothing accepted is left without a
    decision)."""
    from civility.ops.after_response import run_after_response

    def send() -> None:
        from civility.discussion.tasks import moderate_comment_task

        try:
            moderate_comment_task.delay(comment_id)
        except Exception:
            logger.exception("broker unavailable; moderating comment %s inline", comment_id)
            moderate_comment(comment_id)

    transaction.on_commit(partial(run_after_response, send))


def _engine_comment(comment: Comment) -> EngineComment:
    parent_text = comment.parent.text if comment.parent_id and comment.parent else ""
    return EngineComment(
        text=comment.text,
        author_id=str(comment.author_id),
        created_at=comment.created_at,
        parent_text=parent_text,
        article=engine_article(comment.thread),
        id=str(comment.pk),
    )


def moderate_comment(comment_id: int) -> str | None:
    """Run the full engine on a pending comment that awaits it, and apply the decision.

    Returns the new status, or None when there was nothing to do (already decided, deleted).
    Safe to run twice: the second run finds the comment decided and does nothing.
    """
    comment = (
        Comment.objects.select_related("thread", "thread__article", "parent")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None or not _awaits_engine(comment):
        return None
    return _moderate(comment)


def _moderate(
    comment: Comment, *, in_force: tuple[Policy, bool] | None = None, at_posting: bool = False
) -> str | None:
    """Run the full engine on ``comment`` (loaded, awaiting it) and apply the decision onto it.
    ``at_posting``: the author is waiting for this decision in the posting request."""
    try:
        engine = current_engines(comment.site_id, in_force=in_force).full
        verdict: Verdict | None = engine.check(
            _engine_comment(comment), DatabaseContext(comment.site_id)
        )
    except Exception as exc:
        # A broken detector must not leave the comment in limbo: a moderator decides.
        logger.exception("engine failed on comment %s", comment.pk)
        status = hold_for_review(comment.pk, error=f"{type(exc).__name__}: {exc}")
        comment.refresh_from_db()
        return status
    assert verdict is not None
    return _apply_onto(
        comment, verdict, stage=verdict.stage, in_force=in_force, at_posting=at_posting
    )


def _apply_onto(
    comment: Comment,
    verdict: Verdict,
    *,
    stage: str,
    in_force: tuple[Policy, bool] | None,
    at_posting: bool = False,
) -> str | None:
    """Apply the verdict and bring ``comment`` up to date with what was written (or, when
    another process decided it first, with what that one wrote)."""
    site_wide = {comment.site_id: in_force[1]} if in_force is not None else None
    decided = _apply_verdicts(
        [(comment.pk, verdict)],
        stage=stage,
        site_wide=site_wide,
        judged={comment.pk: comment.edited_at},
        at_posting=at_posting,
    )
    if not decided:
        comment.refresh_from_db()
        return None
    for name in DECISION_FIELDS:
        setattr(comment, name, getattr(decided[0], name))
    return str(comment.status)


def _awaits_engine(comment: Comment) -> bool:
    return comment.status == CommentStatus.PENDING and comment.hold_reason in AWAITING_ENGINE


def hold_for_review(comment_id: int, *, error: str) -> str | None:
    with transaction.atomic():
        comment = Comment.objects.select_for_update().filter(pk=comment_id).first()
        if comment is None or not _awaits_engine(comment):
            return None
        comment.hold_reason = HoldReason.ENGINE
        comment.verdict = {"decision": "queue", "error": error, "rules": [], "evidence": []}
        comment.engine_checked_at = timezone.now()
        comment.save(update_fields=["hold_reason", "verdict", "engine_checked_at"])
        record(
            "comment.engine_failed",
            comment,
            actor_label=ENGINE,
            subject_user=comment.author,
            after={"status": comment.status, "hold_reason": comment.hold_reason},
            data={"error": error},
        )
    return str(comment.status)


def rejecting_rule(verdict: Verdict) -> str:
    """The rule a removal names: the strongest rule at or above its reject threshold."""
    candidates = [
        r
        for r in verdict.results.values()
        if r.fired and r.available and r.score >= r.reject_threshold
    ] or [r for r in verdict.results.values() if r.fired]
    if not candidates:
        return ""
    return max(candidates, key=lambda r: (r.score - r.reject_threshold, r.score)).slug


def apply_engine_verdict(comment_id: int, verdict: Verdict, *, stage: str = "full") -> str | None:
    """Store the verdict and move the comment to published, held or rejected."""
    return apply_engine_verdicts([(comment_id, verdict)], stage=stage).get(comment_id)


# Written by a decision; the rest of a pending comment stays as its author left it.
DECISION_FIELDS = [
    "status",
    "hold_reason",
    "rule",
    "verdict",
    "fired_rules",
    "engine_version",
    "policy_version",
    "engine_checked_at",
    "decided_by",
    "decided_at",
]


def apply_engine_verdicts(
    batch: Sequence[tuple[int, Verdict]],
    *,
    stage: str | None = None,
    site_wide: dict[int | None, bool] | None = None,
    judged: dict[int, datetime | None] | None = None,
) -> dict[int, str]:
    """Store each verdict and move its comment to published, held or rejected, for a whole
    batch in a fixed number of queries (one policy read per site, one write per table).

    Only comments that still await the engine are decided, under a row lock, so a decision is
    written once however often a batch is delivered. ``stage`` None: each verdict's own stage.
    ``site_wide``: per site id, whether the whole site is pre-moderated, when the caller has
    read its policy (the engine's); otherwise read here. ``judged``: per comment id, the
    ``edited_at`` of the text the engine judged; a comment edited since then is left to the
    task its edit queued (its new text was not judged). Returns the new status of each
    comment decided here.
    """
    decided = _apply_verdicts(batch, stage=stage, site_wide=site_wide, judged=judged)
    return {c.pk: str(c.status) for c in decided}


def _apply_verdicts(
    batch: Sequence[tuple[int, Verdict]],
    *,
    stage: str | None = None,
    site_wide: dict[int | None, bool] | None = None,
    judged: dict[int, datetime | None] | None = None,
    at_posting: bool = False,
) -> list[Comment]:
    from civility.moderation.models import AuditLog, Standing, Strike

    verdicts = dict(batch)
    if not verdicts:
        return []
    with transaction.atomic():
        comments = [
            c
            for c in Comment.objects.select_for_update(of=("self",))
            .select_related("thread")
            .filter(
                pk__in=list(verdicts),
                status=CommentStatus.PENDING,
                hold_reason__in=AWAITING_ENGINE,
            )
            .order_by("created_at", "id")
            if judged is None or c.pk not in judged or judged[c.pk] == c.edited_at
        ]
        if not comments:
            return []
        site_wide = dict(site_wide or {})
        for site_id in {c.site_id for c in comments} - set(site_wide):
            site_wide[site_id] = current_policy(site_id)[1]
        author_ids = {c.author_id for c in comments}
        standings = {s.user_id: s for s in Standing.objects.filter(user_id__in=author_ids)}
        newcomers = _new_commenters(comments)
        with_links = _held_for_links(comments)
        now = timezone.now()
        entries: list[AuditLog] = []
        strikes: list[Strike] = []
        for comment in comments:
            verdict = verdicts[comment.pk]
            standing = standings.get(comment.author_id)
            premoderated = (
                site_wide[comment.site_id]
                or comment.thread.premoderated
                or bool(standing and standing.premoderated)
                or (comment.site_id, comment.author_id) in newcomers
                or comment.pk in with_links
            )
            entries.append(
                _decide(
                    comment,
                    verdict,
                    stage or verdict.stage,
                    premoderated=premoderated,
                    now=now,
                    at_posting=at_posting,
                )
            )
            if comment.status == CommentStatus.REJECTED:
                strikes.append(
                    Strike(
                        user_id=comment.author_id,
                        comment=comment,
                        rule=comment.rule,
                        issued_by=ENGINE,
                    )
                )
        _write_decisions(comments)
        AuditLog.objects.bulk_create(entries)
        audit_recorded.send(sender=AuditLog, rows=entries)
        Strike.objects.bulk_create(strikes)
        with one_mark_per_thread():
            for comment in comments:  # what comment.save() would tell: caches, notifications
                post_save.send(
                    sender=Comment,
                    instance=comment,
                    created=False,
                    update_fields=frozenset(DECISION_FIELDS),
                    raw=False,
                    using=Comment.objects.db,
                )
        _refresh_auto_premoderation(
            {c.author_id for c in comments if c.status != CommentStatus.PENDING}, standings
        )
    _count_engine_decisions(comments, entries)
    return comments


def _held_for_links(comments: list[Comment]) -> set[int]:
    """The ids of ``comments`` with a link, on sites that review such comments first
    (Site.premoderate_links). No query: the sites' settings are cached."""
    from civility.sites.current import site_by_id
    from civility.standards.text import extract_urls

    holding = {
        site_id
        for site_id in {c.site_id for c in comments}
        if getattr(site_by_id(site_id), "premoderate_links", False)
    }
    return {c.pk for c in comments if c.site_id in holding and extract_urls(c.text)}


def _new_commenters(comments: list[Comment]) -> set[tuple[int | None, int]]:
    """The (site, author) pairs of ``comments`` whose author has fewer published comments on
    that site than it wants reviewed (Site.review_first_comments): a moderator sees their
    comments before readers do. One query, and none when no site asks for it."""
    from civility.sites.current import site_by_id

    limits = {
        site_id: int(getattr(site_by_id(site_id), "review_first_comments", 0) or 0)
        for site_id in {c.site_id for c in comments}
    }
    pairs = {(c.site_id, c.author_id) for c in comments if limits[c.site_id] > 0}
    if not pairs:
        return set()
    published: dict[tuple[int | None, int], int] = {
        (row["site_id"], row["author_id"]): row["total"]
        for row in Comment.objects.filter(
            site_id__in={site for site, _author in pairs},
            author_id__in={author for _site, author in pairs},
            status=CommentStatus.PUBLISHED,
        )
        .values("site_id", "author_id")
        .annotate(total=Count("id"))
        .order_by()
    }
    return {pair for pair in pairs if published.get(pair, 0) < limits[pair[0]]}


def _write_decisions(comments: list[Comment]) -> None:
    """Write the decision fields of ``comments``: one UPDATE by primary key per row, sent
    together (``executemany``: one pipelined round trip on PostgreSQL). Django's
    ``bulk_update`` builds a CASE with one WHEN per row for each of the ten fields, and
    building and compiling those expressions cost more (1.6 ms a comment, measured on a batch
    of 200) than the database spends on the rows."""
    connection = connections[Comment.objects.db]
    quote = connection.ops.quote_name
    meta = Comment._meta
    fields = [f for f in meta.concrete_fields if f.name in DECISION_FIELDS]
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(str(meta.pk.column))} = %s"
    rows = [
        [f.get_db_prep_save(getattr(c, f.attname), connection) for f in fields] + [c.pk]
        for c in comments
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _decide(
    comment: Comment,
    verdict: Verdict,
    stage: str,
    *,
    premoderated: bool,
    now: Any,
    at_posting: bool = False,
) -> Any:
    """Set the decision's fields on ``comment`` (unsaved); returns its unsaved audit row.

    The row's ``at_posting`` says whether the author saw the decision as they posted (the
    engine decided inline); a removal they did not see is e-mailed to them (notifications)."""
    from civility.moderation.models import AuditLog

    before = {"status": comment.status, "hold_reason": comment.hold_reason}
    comment.verdict = {**verdict.to_dict(), "stage": stage}
    comment.fired_rules = f",{','.join(verdict.fired)}," if verdict.fired else ""
    comment.engine_version = verdict.engine_version
    comment.policy_version = verdict.policy_version
    comment.engine_checked_at = now
    rule = ""
    if verdict.decision is Decision.REJECT:
        rule = rejecting_rule(verdict)
        comment.status = CommentStatus.REJECTED
        comment.hold_reason = HoldReason.AWAITING_ENGINE
        comment.rule = rule
        comment.decided_by = ENGINE
        comment.decided_at = now
    elif verdict.decision is Decision.QUEUE:
        comment.hold_reason = HoldReason.ENGINE
    elif premoderated:
        comment.hold_reason = HoldReason.PREMODERATION
    else:
        comment.status = CommentStatus.PUBLISHED
        comment.hold_reason = HoldReason.AWAITING_ENGINE
        comment.decided_by = ENGINE
        comment.decided_at = now
    return AuditLog(
        site_id=comment.site_id,
        action="comment.engine_decision",
        target_type=comment._meta.label_lower,
        target_id=str(comment.pk),
        actor=None,
        actor_label=ENGINE,
        subject_user_id=comment.author_id,
        rule=rule,
        before=before,
        after={"status": comment.status, "hold_reason": comment.hold_reason},
        data={
            "decision": verdict.decision.value,
            "rules": verdict.fired,
            "scores": {s: round(v, 4) for s, v in verdict.scores.items() if v > 0},
            "stage": stage,
            "at_posting": at_posting,
        },
        engine_version=verdict.engine_version,
        policy_version=verdict.policy_version,
    )


def _refresh_auto_premoderation(author_ids: set[int], standings: dict[int, Any]) -> None:
    """Pre-moderation on or off for the authors whose recent rejection rate crossed the line:
    one read for all of them; the few that change go through the moderation service."""
    from civility.moderation.selectors import recent_rejections
    from civility.moderation.services import refresh_auto_premoderation

    if not author_ids:
        return
    rates = recent_rejections(sorted(author_ids))
    changing = []
    for author_id in sorted(author_ids):
        rejected, decided = rates.get(author_id, (0, 0))
        high = (
            decided >= settings.CIVILITY_PREMOD_MIN_COMMENTS
            and rejected / decided >= settings.CIVILITY_PREMOD_REJECTION_RATE
        )
        standing = standings.get(author_id)
        on = bool(standing and standing.premoderated)
        automatic = bool(standing and standing.premoderated_automatically)
        if (high and not on) or (not high and on and automatic):
            changing.append(author_id)
    if changing:
        from django.contrib.auth import get_user_model

        for user in get_user_model().objects.filter(pk__in=changing):
            refresh_auto_premoderation(user)


def _count_engine_decisions(comments: list[Comment], entries: list[Any]) -> None:
    """The decision metrics the audit log's post_save receiver counts for a single row (bulk
    rows send no signal)."""
    from civility.ops import metrics

    for comment, entry in zip(comments, entries, strict=True):
        metrics.record_engine_decision(entry.data, comment.created_at)


def stale_pending_ids(older_than_seconds: int | None, limit: int) -> list[int]:
    """Comments still awaiting the engine after ``older_than_seconds`` (None: the setting
    CIVILITY_STALE_PENDING_SECONDS), oldest first, at most ``limit``."""
    seconds = (
        settings.CIVILITY_STALE_PENDING_SECONDS
        if older_than_seconds is None
        else older_than_seconds
    )
    cutoff = timezone.now() - timedelta(seconds=seconds)
    return list(
        Comment.objects.filter(
            status=CommentStatus.PENDING,
            hold_reason__in=AWAITING_ENGINE,
            created_at__lte=cutoff,
        )
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def moderate_stale_pending(older_than_seconds: int | None = None, limit: int = 500) -> int:
    """Decide comments still waiting for the engine (a worker died, the broker lost a task)."""
    decided = 0
    for comment_id in stale_pending_ids(older_than_seconds, limit):
        if moderate_comment(comment_id) is not None:
            decided += 1
    return decided


# --- What the author sees ----------------------------------------------------------------


def comment_rules(comment: Comment) -> list[str]:
    """The rules behind the comment's state: the removal's rule, or those the engine fired."""
    if comment.status == CommentStatus.REJECTED and comment.rule:
        fired = [r for r in comment.verdict.get("rules", []) if r != comment.rule]
        return [comment.rule, *fired]
    if comment.status in (CommentStatus.PENDING, CommentStatus.REJECTED):
        return list(comment.verdict.get("rules", []))
    return []


def author_message(comment: Comment) -> str:
    """The sentence the author sees about their own comment."""
    if comment.status == CommentStatus.PUBLISHED:
        return _("Your comment is published.")
    if comment.status == CommentStatus.PENDING:
        return _("Your comment is held for review.")
    if comment.status == CommentStatus.REJECTED:
        if comment.rule in RULES_BY_SLUG:
            return _("Your comment was removed: %(rule)s.") % {"rule": rule_label(comment.rule)}
        return _("Your comment was removed.")
    return _("You deleted this comment.")


# --- Editing, deleting, reporting ---------------------------------------------------------


def edit_window_open(comment: Comment) -> bool:
    window = timedelta(seconds=settings.CIVILITY_EDIT_WINDOW_SECONDS)
    return timezone.now() - comment.created_at <= window


def edit_comment(*, comment: Comment, author: Any, text: Any) -> PostOutcome:
    """The author's own edit, within the edit window. The edit is moderated again."""
    if comment.author_id != author.pk:
        raise EditNotAllowed(_("You can only edit your own comments."))
    if comment.status == CommentStatus.DELETED or comment.purged:
        raise EditNotAllowed(_("This comment was deleted."))
    if not edit_window_open(comment):
        raise EditNotAllowed(_("Comments can only be edited in the first 5 minutes."))
    ensure_may_post(author, comment.thread)
    text = clean_text(text, comment.site_id)
    if text == comment.text:
        return PostOutcome(comment, created=False, rules=comment_rules(comment))
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        before = {"status": comment.status, "text": comment.text}
        CommentRevision.objects.create(
            comment=comment, editor=author, text_before=comment.text, text_after=text
        )
        comment.text = text
        comment.edited_at = timezone.now()
        comment.status = CommentStatus.PENDING
        comment.hold_reason = HoldReason.EDITED
        comment.rule = ""
        comment.decided_by = ""
        comment.decided_at = None
        comment.save()
        record(
            "comment.edited",
            comment,
            actor=author,
            subject_user=author,
            before=before,
            after={"status": comment.status, "text": text},
        )
    decide_new_comment(comment)
    comment.refresh_from_db()
    return PostOutcome(comment, created=False, rules=comment_rules(comment))


def delete_own_comment(*, comment: Comment, author: Any) -> Comment:
    """The author deletes their comment; a tombstone keeps the replies in place."""
    if comment.author_id != author.pk:
        raise EditNotAllowed(_("You can only delete your own comments."))
    if comment.status == CommentStatus.DELETED:
        return comment
    with transaction.atomic():
        before = {"status": comment.status}
        comment.status = CommentStatus.DELETED
        comment.save(update_fields=["status"])
        record(
            "comment.deleted_by_author",
            comment,
            actor=author,
            subject_user=author,
            before=before,
            after={"status": comment.status},
        )
    return comment


def report_comment(*, comment: Comment, reporter: Any, rule: str, note: str = "") -> Report:
    """A reader flags a comment, naming the rule it breaks. One report per reader and comment."""
    from civility.accounts.selectors import is_verified

    if not is_verified(reporter):
        raise PostingNotAllowed(_("Sign in with a verified e-mail address to report."))
    if rule not in RULES_BY_SLUG:
        raise InvalidComment(_("Choose the rule the comment breaks."))
    if comment.status != CommentStatus.PUBLISHED or comment.author_hidden:
        raise InvalidComment(_("Only published comments can be reported."))
    if comment.author_id == reporter.pk:
        raise InvalidComment(_("You cannot report your own comment."))
    with transaction.atomic():
        report, created = Report.objects.get_or_create(
            comment=comment, reporter=reporter, defaults={"rule": rule, "note": note[:500]}
        )
        if created:
            record(
                "comment.reported",
                comment,
                actor=reporter,
                subject_user=comment.author,
                rule=rule,
                data={"report": report.pk, "note": note[:500]},
            )
    return report


def recommend_comment(*, comment: Comment, reader: Any, recommend: bool = True) -> int:
    """A reader recommends a published comment of someone else (``recommend=False`` takes
    it back); returns the comment's recommendations. Doing what is already done changes
    nothing and writes no audit row."""
    _ensure_may_write(reader, None, _("Sign in with a verified e-mail address to recommend."))
    if comment.author_id == reader.pk:
        raise InvalidComment(_("You cannot recommend your own comment."))
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        if recommend and (comment.status != CommentStatus.PUBLISHED or comment.author_hidden):
            raise InvalidComment(_("Only published comments can be recommended."))
        mine = Recommendation.objects.filter(comment=comment, user=reader)
        if recommend == mine.exists():
            return comment.recommendations
        if recommend:
            Recommendation.objects.create(comment=comment, user=reader)
        else:
            mine.delete()
        _recount_recommendations(comment)
        record(
            "comment.recommended" if recommend else "comment.recommendation_withdrawn",
            comment,
            actor=reader,
            subject_user=comment.author,
            data={"recommendations": comment.recommendations},
        )
    return comment.recommendations


def ignore_author(*, reader: Any, author: Any, ignore: bool = True) -> bool:
    """``reader`` stops reading ``author``'s comments (``ignore=False``: reads them again);
    returns whether anything changed. Doing what is already done writes no audit row."""
    if author.pk == reader.pk:
        raise InvalidComment(_("You cannot ignore yourself."))
    if ignore and getattr(author, "staff_badge", False):
        raise InvalidComment(_("The newsroom's staff cannot be ignored."))
    with transaction.atomic():
        if ignore:
            _row, changed = IgnoredAuthor.objects.get_or_create(user=reader, ignored=author)
        else:
            changed = IgnoredAuthor.objects.filter(user=reader, ignored=author).delete()[0] > 0
        if changed:
            record(
                "reader.ignored" if ignore else "reader.unignored",
                author,
                actor=reader,
                subject_user=reader,
            )
            transaction.on_commit(partial(forget_ignored_authors, reader.pk))
    return changed


# --- Account deletion (called by the accounts app) ------------------------------------------


def hide_comments_of(user: Any) -> int:
    """Take a deleted account's comments out of public view; their statuses are kept so
    :func:`restore_comments_of` can bring them back. Returns how many were hidden."""
    with transaction.atomic():
        count = Comment.objects.filter(author=user, author_hidden=False).update(author_hidden=True)
        record(
            "comments.hidden", user, actor_label="system", subject_user=user, data={"count": count}
        )
    return count


def restore_comments_of(user: Any) -> int:
    """Undo :func:`hide_comments_of` (the account was restored). Purged texts stay erased."""
    with transaction.atomic():
        count = Comment.objects.filter(author=user, author_hidden=True).update(author_hidden=False)
        record(
            "comments.restored",
            user,
            actor_label="system",
            subject_user=user,
            data={"count": count},
        )
    return count


def purge_comments_of(user: Any) -> int:
    """Erase the texts of a user's comments for good: the text, the edit history and the
    evidence quoted in verdicts. The comments stay as tombstones so threads keep their shape."""
    with transaction.atomic():
        comments = Comment.objects.filter(author=user)
        ids = list(comments.values_list("pk", flat=True))
        for comment in comments.only("pk", "verdict"):
            verdict = dict(comment.verdict or {})
            if verdict.get("evidence"):
                verdict["evidence"] = [
                    {k: v for k, v in item.items() if k not in ("text", "explanation")}
                    for item in verdict["evidence"]
                ]
            Comment.objects.filter(pk=comment.pk).update(verdict=verdict)
        count = comments.update(
            text="", purged=True, author_hidden=True, client_token="", ip_address=None
        )
        CommentRevision.objects.filter(comment_id__in=ids).update(text_before="", text_after="")
        Report.objects.filter(reporter=user).update(note="")
        from civility.moderation.models import AuditLog

        # The audit log keeps who did what, never the erased words.
        for entry in AuditLog.objects.filter(
            target_type="discussion.comment", target_id__in=[str(i) for i in ids]
        ):
            changed = False
            for part in ("before", "after", "data"):
                payload = getattr(entry, part)
                if isinstance(payload, dict) and ("text" in payload or "note" in payload):
                    payload = {k: v for k, v in payload.items() if k not in ("text", "note")}
                    setattr(entry, part, payload)
                    changed = True
            if changed:
                AuditLog.objects.filter(pk=entry.pk).update(
                    before=entry.before, after=entry.after, data=entry.data
                )
        withdrawn = _withdraw_recommendations_of(user)
        IgnoredAuthor.objects.filter(Q(user=user) | Q(ignored=user)).delete()
        transaction.on_commit(partial(forget_ignored_authors, user.pk))
        record(
            "comments.purged",
            user,
            actor_label="system",
            subject_user=user,
            data={"count": count, "recommendations_withdrawn": withdrawn},
        )
    return count


def _withdraw_recommendations_of(user: Any) -> int:
    """Delete a purged account's recommendations (who recommended what is personal data) and
    count again the comments they were on; returns how many were deleted."""
    mine = Recommendation.objects.filter(user=user)
    comment_ids = sorted(set(mine.values_list("comment_id", flat=True)))
    deleted, _ = mine.delete()
    for comment in Comment.objects.select_for_update().filter(pk__in=comment_ids).order_by("pk"):
        _recount_recommendations(comment)
    return int(deleted)


def _recount_recommendations(comment: Comment) -> None:
    """Count ``comment``'s recommendations again from their rows (the caller holds the
    comment's row lock, so the figure never drifts from the rows) and save that column."""
    comment.recommendations = Recommendation.objects.filter(comment=comment).count()
    comment.save(update_fields=["recommendations"])


# --- API tokens ------------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_api_token(user: Any, name: str = "") -> tuple[str, ApiToken]:
    """Create a bearer token; the raw value is returned once and never stored."""
    raw = "cvt_" + secrets.token_urlsafe(32)
    days = int(settings.CIVILITY_API_TOKEN_DAYS)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            key_hash=hash_token(raw),
            prefix=raw[:10],
            name=name[:100],
            expires_at=timezone.now() + timedelta(days=days) if days > 0 else None,
        )
        record(
            "api_token.issued", token, actor=user, subject_user=user, data={"prefix": token.prefix}
        )
    return raw, token


def revoke_api_token(token: ApiToken, *, by: Any = None) -> None:
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            "api_token.revoked",
            token,
            actor=by,
            subject_user=token.user,
            data={"prefix": token.prefix},
        )


TOKEN_USER_ATTRIBUTE = "_civility_token_user"


def _live_token_query(key_hash: str, now: datetime) -> QuerySet[ApiToken]:
    """The unrevoked, unexpired token with this hash, with its user."""
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .order_by("pk")[:1]
    )


# Every API request looks its token up: compiled once per process (ops.prepared).
_LIVE_TOKEN = PreparedQuery(
    "live_token", ApiToken, _live_token_query, {"key_hash": "str", "now": "datetime"}
)


def user_for_request_token(request: Any, raw: str) -> Any | None:
    """:func:`user_for_token`, looked up once per request: the consent middleware and the
    API's authentication both ask for the same token."""
    known = getattr(request, TOKEN_USER_ATTRIBUTE, None)
    if known is not None and known[0] == raw:
        return known[1]
    user = user_for_token(raw)
    setattr(request, TOKEN_USER_ATTRIBUTE, (raw, user))
    return user


def user_for_token(raw: str) -> Any | None:
    """The active user a valid, unrevoked, unexpired token belongs to."""
    if not raw:
        return None
    found = _LIVE_TOKEN.fetch(key_hash=hash_token(raw), now=timezone.now())
    token = found[0] if found else None
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user = token.user
    user._civility_api_token = token  # type: ignore[attr-defined]  # for DELETE /api/auth/token
    return user


def mark_replies_read(user: Any) -> None:
    """The reader has seen the replies to their comments up to now. A reading marker, like
    Django's last_login, so not audited."""
    ReplyInbox.objects.update_or_create(user=user, defaults={"seen_at": timezone.now()})
    forget_unread_replies(user.pk)
