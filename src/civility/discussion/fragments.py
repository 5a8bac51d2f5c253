"""Rendered comments kept in the web process, keyed by everything they show.

A busy thread's page is rendered again after every publication, and the comment template was
most of that time (a 200-comment page: about 20 ms of CPU on a fast core, 60 on a slow one,
while readers wait). A comment's markup changes only when something it shows changes, so
each ``<li>`` (with the replies under it) is kept here under a digest of those things: its
text, status, author name and badge, times, place in the tree, the replies' own digests, and the
reader's language, time zone, URL prefix and what the reader may do (reply, report). A new
comment then costs one comment's rendering, not the thread's.

Nothing is invalidated: a change gives a new key, and old keys age out of a bounded LRU. The
viewer's own comments (edit and delete controls, their status) and held comments (evidence
highlighted for their author) are never kept, nor any embed markup that carries a CSRF token.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

from civility.discussion.models import CommentStatus

if TYPE_CHECKING:
    from django.template import Context

    from civility.discussion.selectors import Node

COMMENT_TEMPLATE = "discussion/_comment.html"
# Bumped when the comment template's output changes in a way the key cannot see; a deploy
# restarts the processes anyway, so this guards only a template edited under a live reloader.
TEMPLATE_GENERATION = 1


class FragmentCache:
    """A thread-safe LRU of rendered markup, bounded by its total length in characters
    (``max_chars``; None: ``settings.CIVILITY_COMMENT_CACHE_CHARS``, read at each store)."""

    def __init__(self, max_chars: int | None = None) -> None:
        self._max_chars = max_chars
        self.enabled = True
        self._entries: OrderedDict[str, str] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> str | None:
        with self._lock:
            html = self._entries.get(key)
            if html is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return html

    @property
    def max_chars(self) -> int:
        if self._max_chars is not None:
            return self._max_chars
        from django.conf import settings

        return int(getattr(settings, "CIVILITY_COMMENT_CACHE_CHARS", 8_000_000))

    def put(self, key: str, html: str) -> None:
        max_chars = self.max_chars
        if len(html) > max_chars // 4:
            return  # one huge subtree would push out everything else (and 0 keeps nothing)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._chars -= len(previous)
            self._entries[key] = html
            self._chars += len(html)
            while self._chars > max_chars and self._entries:
                _key, dropped = self._entries.popitem(last=False)
                self._chars -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)


CACHE = FragmentCache()


@dataclass(frozen=True, slots=True)
class Viewing:
    """What the comment markup reads from the page and the request rather than the comment."""

    language: str
    time_zone: str
    script_prefix: str
    comments_path: str
    max_depth: int
    can_post: bool
    signed_in: bool
    embed: bool

    @classmethod
    def of(cls, context: Context) -> Viewing:
        user = context.get("user")
        return cls(
            language=get_language() or "",
            time_zone=get_current_timezone_name(),
            script_prefix=get_script_prefix(),
            comments_path=str(context.get("comments_path", "")),
            max_depth=int(context.get("max_depth") or 0),
            can_post=bool(context.get("can_post")),
            signed_in=bool(user is not None and getattr(user, "is_authenticated", False)),
            embed=bool(context.get("embed")),
        )

    @property
    def keeps_markup(self) -> bool:
        # Embedded reply and report forms carry the reader's CSRF token.
        return not (self.embed and (self.can_post or self.signed_in))

    def digest(self) -> str:
        return repr((TEMPLATE_GENERATION, self))  # the dataclass's repr names every field


def node_key(node: Node, viewing: Viewing, viewing_digest: str) -> str | None:
    """The digest of everything ``node``'s markup shows, or None when it must be rendered
    for this reader alone. Memoised on the node for the request."""
    if node.fragment_key is not None:
        return node.fragment_key or None
    key = _compute_key(node, viewing, viewing_digest)
    node.fragment_key = key or ""
    return key


def _compute_key(node: Node, viewing: Viewing, viewing_digest: str) -> str | None:
    comment = node.comment
    if node.own or not viewing.keeps_markup:
        return None
    if not node.tombstone and comment.status != CommentStatus.PUBLISHED:
        return None
    children: list[str] = []
    if node.children and node.depth < viewing.max_depth:
        for child in node.children:
            child_key = node_key(child, viewing, viewing_digest)
            if child_key is None:
                return None
            children.append(child_key)
    shown: tuple[Any, ...]
    if node.tombstone:
        shown = ()
    else:
        shown = (
            comment.text,
            comment.author.public_name(),
            comment.author.staff_badge,
            comment.created_at.isoformat(),
            comment.edited_at.isoformat() if comment.edited_at else "",
            comment.featured_at is not None,
            comment.recommendations,
            # The reply link needs an article; read only when it shows (the template's test).
            comment.thread.article_id is not None if viewing.can_post else None,
        )
    parts = (
        viewing_digest,
        comment.pk,
        comment.status,
        node.tombstone,
        node.ignored,
        node.depth,
        node.descendants,
        shown,
        children,
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def render_node(context: Context, node: Node) -> SafeString:
    """``node``'s ``<li>``, from the cache when everything it shows is as it was."""
    # What IncludeNode does: memos for the whole rendering live in the render context's
    # first dict, which outlives the nested templates.
    base: Any = context.render_context.dicts[0]  # typed by django-stubs for IncludeNode alone
    memo: dict[str, Any] = base.setdefault(__name__, {})
    key: str | None = None
    if CACHE.enabled and CACHE.max_chars > 0:
        if "viewing" not in memo:
            viewing = Viewing.of(context)
            memo["viewing"] = (viewing, viewing.digest())
        key = node_key(node, *memo["viewing"])
        if key is not None:
            html = CACHE.get(key)
            if html is not None:
                return mark_safe(html)
    template = memo.get("template")
    if template is None:
        assert context.template is not None
        template = memo["template"] = context.template.engine.get_template(COMMENT_TEMPLATE)
    with context.push(node=node):
        html = template.render(context)
    if key is not None:
        CACHE.put(key, html)
    return mark_safe(html)
