"""Template tags: the comment section of an article page, counts, highlighted text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import is_aware, localtime

from civility.discussion import fragments, selectors, services
from civility.discussion.models import Comment, CommentStatus
from civility.discussion.rendering import render_comment_html
from civility.standards.rules import rule_label_or

register = template.Library()


@register.inclusion_tag("discussion/_section.html", takes_context=True)
def comment_section(context: template.Context, article: Any) -> dict[str, Any]:
    """The thread under an article: ``{% comment_section article %}``."""
    from civility.discussion.views import section_context

    request = context["request"]
    thread = selectors.thread_of(article)
    data = section_context(request, thread, article=article)
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.simple_tag(takes_context=True)
def comment_node(context: template.Context, node: selectors.Node) -> SafeString:
    """One comment and its replies: ``{% comment_node node %}``, what
    ``{% include "discussion/_comment.html" with node=node %}`` gives, kept in
    :mod:`civility.discussion.fragments` while nothing it shows changes."""
    return fragments.render_node(context, node)


@register.simple_tag
def comment_count(article: Any) -> int:
    """Public comments under an article: ``{% comment_count article %}``."""
    return selectors.comment_count(article)


@register.filter
def comment_html(comment: Comment) -> SafeString:
    """The comment's text as safe HTML; the author's own removed or held comment shows its
    evidence highlighted."""
    evidence = comment.evidence if comment.status != CommentStatus.PUBLISHED else ()
    return render_comment_html(comment.text, evidence)


@register.filter
def time_element(moment: datetime) -> SafeString:
    """``<time datetime="ISO 8601">localised date and time</time>``: what
    ``date:'c'`` and ``date:"DATETIME_FORMAT"`` gave, with the conversion to the current time
    zone done once. The comment template shows one per comment, and the two ``date`` filters
    were a fifth of its time."""
    # What the template engine does for the date filter (template_localtime); isoformat() is
    # what its "c" returns. Both parts are escaped.
    local = localtime(moment) if is_aware(moment) else moment
    return mark_safe(
        f'<time datetime="{escape(local.isoformat())}">'
        f"{escape(date_format(local, 'DATETIME_FORMAT'))}</time>"
    )


@register.filter
def plain_comment_html(comment: Comment) -> SafeString:
    return render_comment_html(comment.text)


@register.filter
def author_message(comment: Comment) -> str:
    return services.author_message(comment)


@register.filter
def rule_title(slug: str) -> str:
    return rule_label_or(slug, slug)


@register.filter
def can_edit(comment: Comment, user: Any) -> bool:
    return (
        getattr(user, "pk", None) == comment.author_id
        and comment.status != CommentStatus.DELETED
        and services.edit_window_open(comment)
    )
