"""Comments for account tests, written straight to the discussion app's tables."""

from __future__ import annotations

from typing import Any

from civility.discussion.models import Comment, CommentStatus, Thread


def published_comment(
    author: Any, text: str, *, parent: Comment | None = None, ip_address: str = "203.0.113.77"
) -> Comment:
    thread = Thread.objects.get_or_create(
        canonical_url="https://news.example.org/a/1", defaults={"title": "A story"}
    )[0]
    return Comment.objects.create(
        thread=thread,
        author=author,
        parent=parent,
        depth=(parent.depth + 1) if parent else 0,
        text=text,
        status=CommentStatus.PUBLISHED,
        ip_address=ip_address,
    )


def publicly_visible(comment: Comment) -> bool:
    from civility.discussion.selectors import public_comments

    return public_comments().filter(pk=comment.pk).exists()
