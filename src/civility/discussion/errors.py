"""Errors the discussion services raise; views map each to an HTTP status and a message."""

from __future__ import annotations


class DiscussionError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidComment(DiscussionError):
    """Empty or oversized text, a reply to a comment elsewhere, an unknown rule..."""


class CommentsClosed(DiscussionError):
    status_code = 403


class PostingNotAllowed(DiscussionError):
    """Not signed in with a verified address, or blocked."""

    status_code = 403

    def __init__(self, message: str, *, blocked: bool = False) -> None:
        super().__init__(message)
        self.blocked = blocked


class EditNotAllowed(DiscussionError):
    status_code = 403


class RateLimited(DiscussionError):
    """Over a rate limit; ``retry_after`` is the Retry-After header's value, in seconds."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
