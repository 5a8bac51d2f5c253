"""Moderators' pages. Every view here is wrapped by ``moderator_required`` (the URLconf test
checks that no route escapes it). Views parse input and call a service."""

from __future__ import annotations

import difflib
import html
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from civility.discussion.errors import DiscussionError
from civility.discussion.models import Comment, Report, Thread
from civility.discussion.rendering import render_comment_html
from civility.moderation import charts, queues, services, stats
from civility.moderation.models import (
    Appeal,
    AppealStatus,
    AuditLog,
    ContactMessage,
    EmailDomainAction,
    EmailDomainRule,
    ModeratorNote,
    PolicyVersion,
    ReviewRequest,
    ReviewStatus,
)
from civility.moderation.permissions import (
    all_sites_moderator_required,
    moderates_all_sites,
    moderator_required,
    request_site_id,
)
from civility.moderation.replay import PolicyForm, replay
from civility.moderation.selectors import (
    AuthorHistory,
    accounts_at_domain,
    active_policy,
    author_histories,
    author_history,
    posting_standing,
)
from civility.standards.rules import RULES, RULES_BY_SLUG

PAGE_SIZE = 25


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # reverse() carries the site's path prefix, if any.
    return target if target.startswith(reverse("moderation:dashboard")) else default


def _site_comments(request: HttpRequest) -> QuerySet[Comment]:
    """Comments of the request's site only: another site's comment is a 404 here."""
    return Comment.objects.filter(site_id=request_site_id(request))


def _site_audit(request: HttpRequest) -> QuerySet[AuditLog]:
    """Audit entries of the request's site; moderators of every site also see account-wide
    entries (blocks, deletions), which belong to no site."""
    site_id = request_site_id(request)
    entries = AuditLog.objects.select_related("actor", "subject_user")
    if moderates_all_sites(request.user):
        return entries.filter(Q(site_id=site_id) | Q(site__isnull=True))
    return entries.filter(site_id=site_id)


def word_diff(before: str, after: str) -> SafeString:
    """The change between two texts, word by word, as <del>/<ins> (escaped)."""
    a, b = re.findall(r"\S+|\s+", before), re.findall(r"\S+|\s+", after)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            out.append(f"<del>{html.escape(''.join(a[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            out.append(f"<ins>{html.escape(''.join(b[j1:j2]))}</ins>")
    return mark_safe("".join(out))  # every piece is escaped


def _scores(comment: Comment) -> list[dict[str, Any]]:
    verdict = comment.verdict or {}
    scores = verdict.get("scores", {})
    thresholds = verdict.get("thresholds", {})
    fired = set(verdict.get("rules", []))
    rows = []
    for slug, score in sorted(scores.items(), key=lambda kv: -kv[1]):
        if score <= 0 and slug not in fired:
            continue
        rule = RULES_BY_SLUG.get(slug)
        limits = thresholds.get(slug, {})
        rows.append(
            {
                "slug": slug,
                "label": f"{rule.number}. {rule.title}" if rule else slug,
                "score": score,
                "percent": round(score * 100),
                "queue": limits.get("queue"),
                "reject": limits.get("reject"),
                "fired": slug in fired,
            }
        )
    return rows[:8]


def _with_reports(comments: QuerySet[Comment]) -> QuerySet[Comment]:
    """Every card's reports in one query for the whole page."""
    return comments.prefetch_related(
        Prefetch(
            "reports",
            queryset=Report.objects.select_related("reporter").order_by("-created_at", "-id"),
            to_attr="card_reports",
        )
    )


def rule_labels() -> list[tuple[str, str]]:
    """(slug, escaped "number. title") of every rule, in the active language."""
    return [(rule.slug, html.escape(f"{rule.number}. {rule.title}")) for rule in RULES]


def rule_options(selected: str = "", labels: list[tuple[str, str]] | None = None) -> SafeString:
    """The <option>s of a rule <select>, built here: a template loop over twenty rules on each
    of 25 cards was most of the page's rendering time. Slugs are [a-z_]; labels are escaped."""
    options = (
        f'<option value="{slug}"{" selected" if slug == selected else ""}>{label}</option>'
        for slug, label in (labels if labels is not None else rule_labels())
    )
    return mark_safe("".join(options))  # every piece is escaped or a known slug


def cards(comments: list[Comment]) -> list[dict[str, Any]]:
    """The cards of a page: their reports prefetched, their authors' histories read at once."""
    histories = author_histories(c.author_id for c in comments)
    labels = rule_labels()
    links = CardLinks()
    return [card(c, histories, labels, links) for c in comments]


class CardLinks:
    """The links of a card, each route reversed once per page and filled in per card: a card
    template with seven ``{% url %}`` tags spent a fifth of a queue page's rendering in
    ``reverse()`` (25 cards, 175 calls)."""

    BY_COMMENT = ("comment", "approve", "reject", "edit", "feature")
    BY_AUTHOR = ("user", "block", "delete_account")
    _MARK = "2147483647"

    def __init__(self) -> None:
        self._patterns = {
            name: reverse(f"moderation:{name}", args=[int(self._MARK)]).split(self._MARK, 1)
            for name in (*self.BY_COMMENT, *self.BY_AUTHOR)
        }

    def of(self, comment: Comment) -> dict[str, str]:
        links = {}
        for name, (head, tail) in self._patterns.items():
            key = comment.pk if name in self.BY_COMMENT else comment.author_id
            links[name] = f"{head}{key}{tail}"
        return links


def card(
    comment: Comment,
    histories: dict[int, AuthorHistory],
    labels: list[tuple[str, str]] | None = None,
    links: CardLinks | None = None,
) -> dict[str, Any]:
    if comment.author_id not in histories:
        histories[comment.author_id] = author_history(comment.author)
    reports = getattr(comment, "card_reports", None)
    if reports is None:
        reports = list(comment.reports.select_related("reporter").order_by("-created_at", "-id"))
    fired = comment.verdict.get("rules", []) if comment.verdict else []
    suggested = comment.rule or (fired[0] if fired else "")
    if not suggested and reports:
        suggested = reports[0].rule
    return {
        "comment": comment,
        "html": render_comment_html(comment.text, comment.evidence),
        "parent_html": render_comment_html(comment.parent.text)
        if comment.parent_id and comment.parent
        else "",
        "scores": _scores(comment),
        "evidence": comment.evidence,
        "history": histories[comment.author_id],
        "reports": reports[:10],
        "suggested_rule": suggested,
        "rule_options": rule_options(suggested, labels),
        "error": (comment.verdict or {}).get("error", ""),
        "urls": (links or CardLinks()).of(comment),
        "thread_url": comment.thread.get_absolute_url(),
    }


def _base_context(request: HttpRequest, counts: dict[str, int] | None = None) -> dict[str, Any]:
    return _counted_context(request, counts)[0]


def _counted_context(
    request: HttpRequest,
    counts: dict[str, int] | None = None,
    queue_rows: Mapping[str, tuple[QuerySet[Any], int | None]] | None = None,
) -> tuple[dict[str, Any], dict[str, int]]:
    """What every moderation page shows: the queues' sizes, and for moderators of every site
    the open unlock requests and messages; all counted in one statement. ``queue_rows``: more
    counts the page needs, read in that same statement and returned with the context."""
    site_id = request_site_id(request)
    every_site = moderates_all_sites(request.user)
    wanted: dict[str, tuple[QuerySet[Any], int | None]] = {}
    known: dict[str, int] = {}
    if counts is None:
        to_count, known = queues.queue_count_plan(site_id)
        wanted.update(to_count)
    # Requests to review a removal are about one site's comments: that site's moderators.
    wanted["_reviews"] = (
        ReviewRequest.objects.filter(site_id=site_id, status=ReviewStatus.OPEN),
        None,
    )
    if every_site:
        # Unlock requests and messages are about shared accounts: moderators of every site.
        wanted["_appeals"] = (Appeal.objects.filter(status=AppealStatus.OPEN), None)
        wanted["_messages"] = (ContactMessage.objects.filter(handled_at__isnull=True), None)
    wanted.update(queue_rows or {})
    found = {**known, **queues.counts_at_once(wanted)}
    if counts is None:
        queues.remember_counts(site_id, found, known)
        counts = {name: found[name] for name in queues.QUEUES}
    request.civility_pending_count = min(  # type: ignore[attr-defined]  # for the header
        counts["pending"], int(settings.CIVILITY_QUEUE_COUNT_CAP) + 1
    )
    context = {
        "queue_counts": {name: queues.count_label(n) for name, n in counts.items()},
        "queues": queues.QUEUES,
        "moderates_all_sites": every_site,
        "open_appeals": found.get("_appeals", 0),
        "open_messages": found.get("_messages", 0),
        "open_reviews": found.get("_reviews", 0),
        "rules": RULES,
        # Where the forms on the page come back to (read once, not on every card).
        "next_url": request.get_full_path(),
        # The CSRF field of every form of the page, rendered once (cards have four forms).
        "csrf_input": csrf_input(request),
    }
    return context, found


# --- Dashboard and queues -----------------------------------------------------------------------


@moderator_required
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = stats.dashboard(request_site_id(request))
    per_day = figures["per_day"]
    by_rule = figures["by_rule"]
    queue_sizes = figures["queues"]
    appeals = figures["appeals"]
    context = _base_context(request, counts=queue_sizes)
    shown = ("pending", "reported", "rejected", "approved")
    context.update(
        {
            "figures": figures,
            "chart_per_day": charts.bar_chart(
                _("Comments per day (last 30 days)"),
                [d.strftime("%d %b") for d, _n in per_day],
                [(_("comments"), [float(n) for _d, n in per_day])],
            ),
            "chart_by_rule": charts.bar_chart(
                _("Removals by rule (last 30 days)"),
                [label for label, _e, _h in by_rule] or [_("none")],
                [
                    (_("engine"), [float(e) for _l, e, _h in by_rule] or [0.0]),
                    (_("moderators"), [float(h) for _l, _e, h in by_rule] or [0.0]),
                ],
            ),
            "chart_queues": charts.bar_chart(
                _("Queue sizes now"),
                [str(queues.QUEUES[name]) for name in shown],
                [(_("comments"), [float(queue_sizes[n]) for n in shown])],
            ),
            "chart_median": charts.bar_chart(
                _("Median minutes to a decision, by day posted"),
                [d.strftime("%d %b") for d, _e, _h in figures["median_by_day"]],
                [
                    (_("engine"), [e for _d, e, _h in figures["median_by_day"]]),
                    (_("moderators"), [h for _d, _e, h in figures["median_by_day"]]),
                ],
                stacked=False,
            ),
            "chart_appeals": charts.bar_chart(
                _("Unlock requests by outcome"),
                [_("open"), _("restored"), _("refused")],
                [(_("requests"), [float(appeals[k]) for k in ("open", "restored", "refused")])],
            ),
            "chart_moderators": charts.bar_chart(
                _("Decisions by moderator (last 30 days)"),
                [name for name, _c in figures["by_moderator"]] or [_("none")],
                [
                    (label, [float(c[column]) for _n, c in figures["by_moderator"]] or [0.0])
                    for column, label in (
                        ("approved", _("approved")),
                        ("removed", _("removed")),
                        ("edited", _("edited")),
                        ("featured", _("featured")),
                    )
                ],
            ),
            "median": figures["median"],
        }
    )
    return render(request, "moderation/dashboard.html", context)


class QueuePage:
    """One page of a queue and links to its neighbours. The first page, and a page asked for
    by number alone, is read with OFFSET; "Next" and "Previous" carry a cursor (the last or
    first card shown) and read from there on the queue's index (seek paging), so a deep page
    costs what the first one does. The total is counted only up to the cap.

    Page numbers stay in the links for the reader: with a cursor the number is a label; when
    going back finds the queue's start (cards were decided meanwhile), the first page is read.
    """

    def __init__(
        self,
        comments: QuerySet[Comment],
        order: tuple[str, ...],
        number: int,
        total: int,
        *,
        cursor: queues.Cursor | None = None,
        query: QueryDict | None = None,
        cap: int | None = None,
    ) -> None:
        cap = cap if cap is not None else int(settings.CIVILITY_QUEUE_COUNT_CAP)
        self.total = total
        self.total_label = queues.count_label(total, cap)
        self.num_pages_label = (
            str(max(1, -(-total // PAGE_SIZE))) if total <= cap else f"{-(-cap // PAGE_SIZE)}+"
        )
        if total <= cap and cursor is None:
            number = min(number, max(1, -(-total // PAGE_SIZE)))
        self.number = max(1, number)
        self._order = order
        self._query = query if query is not None else QueryDict(mutable=True)
        rows: list[Comment] | None = None
        if cursor is not None and self.number > 1:
            after, scan = queues.seek(comments, order, cursor)
            rows = list(_with_reports(queues.page_rows(after, scan, 0, PAGE_SIZE + 1)))
            if cursor.backwards:
                if len(rows) <= PAGE_SIZE:  # the queue's start: show its first page
                    rows, self.number = None, 1
                else:
                    rows = rows[:PAGE_SIZE][::-1]
                    self.has_next = True
            else:
                self.has_next = len(rows) > PAGE_SIZE
                rows = rows[:PAGE_SIZE]
        if rows is None:
            offset = (self.number - 1) * PAGE_SIZE
            page = queues.page_rows(comments, order, offset, offset + PAGE_SIZE + 1)
            rows = list(_with_reports(page))
            self.has_next = len(rows) > PAGE_SIZE
            rows = rows[:PAGE_SIZE]
        self.object_list = rows
        self.has_previous = self.number > 1
        self.has_other_pages = self.has_next or self.has_previous
        self.next_page_number = self.number + 1
        self.previous_page_number = self.number - 1

    def _link(self, number: int, name: str = "", comment: Comment | None = None) -> str:
        query = self._query.copy()
        for key in ("page", "after", "before"):
            query.pop(key, None)
        if number > 1:
            query["page"] = str(number)
            place = queues.Cursor.of(comment, self._order) if comment is not None else None
            if place is not None:
                query[name] = place.encode()
        return query.urlencode()

    @property
    def next_query(self) -> str:
        """The query string of the next page: its number and the last card's cursor."""
        last = self.object_list[-1] if self.object_list else None
        return self._link(self.next_page_number, "after", last)

    @property
    def previous_query(self) -> str:
        """The query string of the previous page: its number and the first card's cursor."""
        first = self.object_list[0] if self.object_list else None
        return self._link(self.previous_page_number, "before", first)

    def __iter__(self) -> Any:
        return iter(self.object_list)


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1


def _cursor(request: HttpRequest) -> queues.Cursor | None:
    if "after" in request.GET:
        return queues.Cursor.decode(request.GET["after"])
    if "before" in request.GET:
        return queues.Cursor.decode(request.GET["before"], backwards=True)
    return None


@moderator_required
def queue_view(request: HttpRequest, name: str) -> HttpResponse:
    if name not in queues.QUEUES:
        raise Http404(_("No such queue."))
    site_id = request_site_id(request)
    filters = queues.Filters.from_query(request.GET)
    comments = filters.apply(queues.queue(name, site_id))
    # A filtered queue's size is counted with the queue sizes, in the same statement, up to
    # a lower cap (a rare rule is found one comment in a hundred, through the queue's index).
    cap = queues.filtered_count_cap() if filters.active else int(settings.CIVILITY_QUEUE_COUNT_CAP)
    filtered = {"_filtered": (comments, cap)} if filters.active else {}
    context, found = _counted_context(request, queue_rows=filtered)
    total = found["_filtered"] if filters.active else found[name]
    page = QueuePage(
        comments,
        queues.order_of(name),
        _page_number(request),
        total,
        cap=cap,
        cursor=_cursor(request),
        query=request.GET,
    )
    context.update(
        {
            "queue": name,
            "queue_title": queues.QUEUES[name],
            "page": page,
            "cards": cards(page.object_list),
            "filters": filters,
            "filter_rule_options": rule_options(filters.rule),
            "bulk_rule_options": rule_options(),
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "moderation/queue.html", context)


@moderator_required
def comment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(
        _with_reports(
            _site_comments(request).select_related(
                "author", "thread", "thread__article", "parent", "parent__author"
            )
        ),
        pk=pk,
    )
    revisions = [
        {"revision": r, "diff": word_diff(r.text_before, r.text_after)}
        for r in comment.revisions.select_related("editor").order_by("created_at", "id")
    ]
    review = ReviewRequest.objects.filter(comment=comment).select_related("decided_by").first()
    about = Q(target_type="discussion.comment", target_id=str(comment.pk))
    if review is not None:  # the request's rows belong to the comment's story
        about |= Q(target_type="moderation.reviewrequest", target_id=str(review.pk))
    context = _base_context(request)
    context.update(
        {
            "card": card(comment, {}),
            "revisions": revisions,
            "review": review,
            "audit": AuditLog.objects.filter(about),
        }
    )
    return render(request, "moderation/comment.html", context)


@moderator_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(_site_comments(request), pk=pk)
    try:
        services.approve_comment(comment, moderator=request.user, note=request.POST.get("note", ""))
        messages.success(request, _("Comment %(id)s approved.") % {"id": pk})
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:comment", args=[pk])))


@moderator_required
@require_POST
def feature(request: HttpRequest, pk: int) -> HttpResponse:
    """``featured=1`` makes the comment an editors' pick; ``featured=0`` takes it back."""
    comment = get_object_or_404(_site_comments(request), pk=pk)
    featured = request.POST.get("featured") == "1"
    try:
        services.set_featured(comment, moderator=request.user, featured=featured)
        if featured:
            messages.success(request, _("Comment %(id)s is now an editors' pick.") % {"id": pk})
        else:
            messages.success(request, _("Comment %(id)s is no longer featured.") % {"id": pk})
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:comment", args=[pk])))


@moderator_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(_site_comments(request), pk=pk)
    try:
        services.reject_comment(
            comment,
            moderator=request.user,
            rule=request.POST.get("rule", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, _("Comment %(id)s rejected.") % {"id": pk})
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:comment", args=[pk])))


@moderator_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(_site_comments(request).select_related("author", "thread"), pk=pk)
    context = _base_context(request)
    context.update(
        {
            "comment": comment,
            "text": request.POST.get("text", comment.text),
            "reason": request.POST.get("reason", ""),
        }
    )
    if request.method == "POST":
        try:
            services.edit_comment_as_moderator(
                comment,
                moderator=request.user,
                text=request.POST.get("text", ""),
                reason=request.POST.get("reason", ""),
            )
        except DiscussionError as exc:
            context["error"] = exc.message
            return render(request, "moderation/edit.html", context, status=400)
        messages.success(request, _("The comment was edited; the change is in its history."))
        return redirect("moderation:comment", pk=pk)
    return render(request, "moderation/edit.html", context)


@moderator_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    action = request.POST.get("action", "")
    comments = list(_site_comments(request).filter(pk__in=ids))
    if action not in ("approve", "reject") or not comments:
        messages.error(request, _("Choose comments and an action."))
    elif action == "reject" and request.POST.get("rule", "") not in RULES_BY_SLUG:
        messages.error(request, _("Choose the rule the comments break."))
    else:
        done = services.bulk_decide(
            comments, moderator=request.user, action=action, rule=request.POST.get("rule", "")
        )
        if action == "approve":
            text = ngettext("%(count)d comment approved.", "%(count)d comments approved.", done)
        else:
            text = ngettext("%(count)d comment rejected.", "%(count)d comments rejected.", done)
        messages.success(request, text % {"count": done})
    return redirect(_back(request, reverse("moderation:queue", args=["pending"])))


# --- Users and sanctions ------------------------------------------------------------------------------


def _user_or_404(pk: int) -> Any:
    return get_object_or_404(get_user_model(), pk=pk)


@moderator_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    every_site = moderates_all_sites(request.user)
    context = _base_context(request)
    context.update(
        {
            "subject": user,
            "history": author_history(user),
            "strikes": user.strikes.select_related("comment").all()[:50],
            "blocks": user.blocks.all(),
            "suspension": posting_standing(user),
            "notes": user.moderator_notes.select_related("created_by")[:100],
            "note_max_length": ModeratorNote.MAX_LENGTH,
            "suspension_choices": [
                (hours, _duration(hours)) for hours in services.SUSPENSION_CHOICES_HOURS
            ],
            "appeals": Appeal.objects.filter(user=user) if every_site else Appeal.objects.none(),
            "comments": _site_comments(request)
            .filter(author=user)
            .select_related("thread", "thread__article")
            .defer(*queues.UNUSED_ON_CARDS[:2])
            .order_by("-created_at")[:30],
            "audit": _site_audit(request).filter(subject_user=user)[:100],
        }
    )
    return render(request, "moderation/user.html", context)


@all_sites_moderator_required
@require_POST
def block(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    result = services.block_user(
        user, moderator=request.user, reason=request.POST.get("reason", "")
    )
    if result.final:
        messages.success(request, _("%(user)s is blocked (final: second block).") % {"user": user})
    else:
        messages.success(request, _("%(user)s is blocked.") % {"user": user})
    return redirect(_back(request, reverse("moderation:user", args=[pk])))


@all_sites_moderator_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    try:
        services.restore_access(user, moderator=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, _("Access restored for %(user)s.") % {"user": user})
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:user", args=[pk])))


@moderator_required
@require_POST
def add_note(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    try:
        services.add_user_note(user, moderator=request.user, text=request.POST.get("text", ""))
        messages.success(request, _("Note saved."))
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("moderation:user", args=[pk]) + "#notes")


@moderator_required
@require_POST
def delete_note(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(ModeratorNote.objects.select_related("user"), pk=pk)
    try:
        services.delete_user_note(note, moderator=request.user)
        messages.success(request, _("Note deleted."))
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("moderation:user", args=[note.user_id]) + "#notes")


def _duration(hours: int) -> str:
    if hours % 24:
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = hours // 24
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}


@all_sites_moderator_required
@require_POST
def suspend(request: HttpRequest, pk: int) -> HttpResponse:
    """``hours`` > 0 suspends for that long; ``hours=0`` lifts the current suspension."""
    user = _user_or_404(pk)
    try:
        hours = int(request.POST.get("hours", ""))
    except ValueError:
        hours = -1
    try:
        if hours == 0:
            if services.lift_suspension(user, moderator=request.user):
                messages.success(
                    request, _("The suspension of %(user)s is lifted.") % {"user": user}
                )
        else:
            standing = services.suspend_user(
                user, moderator=request.user, hours=hours, reason=request.POST.get("reason", "")
            )
            until = date_format(timezone.localtime(standing.suspended_until), "DATETIME_FORMAT")
            messages.success(
                request,
                _("%(user)s is suspended until %(until)s.") % {"user": user, "until": until},
            )
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:user", args=[pk])))


@all_sites_moderator_required
@require_POST
def premoderation(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    on = request.POST.get("on") == "1"
    services.set_premoderation(user, on=on, by=request.user)
    if on:
        messages.success(request, _("Pre-moderation on for %(user)s.") % {"user": user})
    else:
        messages.success(request, _("Pre-moderation off for %(user)s.") % {"user": user})
    return redirect(_back(request, reverse("moderation:user", args=[pk])))


@all_sites_moderator_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    if request.method == "POST":
        try:
            services.delete_account(user, moderator=request.user)
            messages.success(
                request,
                _("The account of %(user)s was deleted; its comments are hidden.") % {"user": user},
            )
        except DiscussionError as exc:
            messages.error(request, exc.message)
        return redirect("moderation:user", pk=pk)
    context = _base_context(request)
    context["subject"] = user
    return render(request, "moderation/delete_account.html", context)


# --- Appeals and messages -------------------------------------------------------------------------------


@all_sites_moderator_required
def appeals(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    items = Appeal.objects.select_related("user", "decided_by", "block")
    if status in AppealStatus.values:
        items = items.filter(status=status)
    page = Paginator(items.order_by("created_at", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = _base_context(request)
    context.update(
        {"page": page, "status": status, "now": timezone.now(), "statuses": AppealStatus.choices}
    )
    return render(request, "moderation/appeals.html", context)


@all_sites_moderator_required
@require_POST
def decide_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(Appeal, pk=pk)
    decision = request.POST.get("decision", "")
    if decision not in ("restore", "refuse"):
        messages.error(request, _("Choose restore or refuse."))
        return redirect("moderation:appeals")
    try:
        services.decide_unlock_request(
            appeal,
            moderator=request.user,
            restore=decision == "restore",
            message=request.POST.get("message", ""),
        )
        if decision == "restore":
            text = _("Request %(id)s: access restored; the user was e-mailed.")
        else:
            text = _("Request %(id)s: refused; the user was e-mailed.")
        messages.success(request, text % {"id": pk})
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect("moderation:appeals")


@moderator_required
def reviews(request: HttpRequest) -> HttpResponse:
    """Readers' requests to review the removal of their comments, oldest first."""
    status = request.GET.get("status", ReviewStatus.OPEN)
    items = ReviewRequest.objects.filter(site_id=request_site_id(request)).select_related(
        "user", "decided_by", "comment", "comment__thread", "comment__moderator"
    )
    if status in ReviewStatus.values:
        items = items.filter(status=status)
    page = Paginator(items.order_by("created_at", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for review in page:
        review.comment_html = render_comment_html(review.comment.text, review.comment.evidence)  # type: ignore[attr-defined]
        review.rule_title = (  # type: ignore[attr-defined]
            RULES_BY_SLUG[review.rule].title if review.rule in RULES_BY_SLUG else review.rule
        )
    context = _base_context(request)
    context.update({"page": page, "status": status, "statuses": ReviewStatus.choices})
    return render(request, "moderation/reviews.html", context)


@moderator_required
@require_POST
def decide_review(request: HttpRequest, pk: int) -> HttpResponse:
    review = get_object_or_404(ReviewRequest, pk=pk, site_id=request_site_id(request))
    decision = request.POST.get("decision", "")
    if decision not in ("reinstate", "uphold"):
        messages.error(request, _("Choose reinstate or uphold."))
        return redirect("moderation:reviews")
    try:
        decided = services.decide_review(
            review,
            moderator=request.user,
            reinstate=decision == "reinstate",
            message=request.POST.get("message", ""),
        )
        texts = {
            ReviewStatus.REINSTATED: _(
                "Request %(id)s: the comment is published again; the reader was e-mailed."
            ),
            ReviewStatus.UPHELD: _("Request %(id)s: the removal stands; the reader was e-mailed."),
            ReviewStatus.WITHDRAWN: _(
                "Request %(id)s: the author deleted the comment; the request is closed."
            ),
        }
        messages.success(request, texts[ReviewStatus(decided.status)] % {"id": pk})
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect("moderation:reviews")


@all_sites_moderator_required
def contact_messages(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    items = ContactMessage.objects.select_related("user", "handled_by")
    if show == "open":
        items = items.filter(handled_at__isnull=True)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _base_context(request)
    context.update({"page": page, "show": show})
    return render(request, "moderation/messages.html", context)


@all_sites_moderator_required
@require_POST
def message_handled(request: HttpRequest, pk: int) -> HttpResponse:
    services.mark_message_handled(get_object_or_404(ContactMessage, pk=pk), moderator=request.user)
    return redirect("moderation:messages")


@all_sites_moderator_required
@require_http_methods(["GET", "POST"])
def email_domains(request: HttpRequest) -> HttpResponse:
    """Rules for new accounts by e-mail domain: refuse them, or hold their comments."""
    if request.method == "POST":
        try:
            rule = services.set_email_domain_rule(
                request.POST.get("domain", ""),
                action=request.POST.get("action", ""),
                note=request.POST.get("note", ""),
                moderator=request.user,
            )
            messages.success(
                request,
                _("Saved: new accounts at %(domain)s — %(action)s.")
                % {"domain": rule.domain, "action": rule.get_action_display()},
            )
        except DiscussionError as exc:
            messages.error(request, exc.message)
        return redirect("moderation:email_domains")
    rules = list(EmailDomainRule.objects.select_related("created_by"))
    for rule in rules:
        rule.existing_accounts = accounts_at_domain(rule.domain)  # type: ignore[attr-defined]
    context = _base_context(request)
    context.update({"rules": rules, "actions": EmailDomainAction.choices})
    return render(request, "moderation/email_domains.html", context)


@all_sites_moderator_required
@require_POST
def remove_email_domain(request: HttpRequest, pk: int) -> HttpResponse:
    rule = EmailDomainRule.objects.filter(pk=pk).first()
    if rule is None:  # a second click, or another moderator was quicker
        messages.info(request, _("That rule was removed already."))
    else:
        services.remove_email_domain_rule(rule, moderator=request.user)
        messages.success(request, _("Removed the rule for %(domain)s.") % {"domain": rule.domain})
    return redirect("moderation:email_domains")


# --- Policy, threads, audit -------------------------------------------------------------------------


@moderator_required
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    """Edit the site's policy. "Replay" runs the draft over the site's recent comments;
    "Save" activates it."""
    site_id = request_site_id(request)
    current, version = active_policy(site_id)
    form = PolicyForm.from_request(request, current, version)
    context = _base_context(request)
    context.update(
        {
            "form": form,
            "current": current,
            "version": version,
            "versions": PolicyVersion.objects.filter(site_id=site_id).select_related("created_by")[
                :20
            ],
        }
    )
    if request.method == "POST":
        draft = form.policy()
        if draft is None:
            return render(request, "moderation/policy.html", context, status=400)
        if request.POST.get("action") == "save":
            services.save_policy(
                draft,
                by=request.user,
                premoderate_all=form.premoderate_all,
                note=form.note,
                site=site_id,
            )
            messages.success(
                request,
                _("Policy saved (version %(version)s); the engine uses it now.")
                % {"version": draft.version},
            )
            return redirect("moderation:policy")
        context["replay"] = replay(draft, current, limit=form.replay_count, site_id=site_id)
        context["draft_version"] = draft.version
    return render(request, "moderation/policy.html", context)


def _site_threads(request: HttpRequest) -> QuerySet[Thread]:
    return Thread.objects.filter(site_id=request_site_id(request))


@moderator_required
def threads(request: HttpRequest) -> HttpResponse:
    items = (
        _site_threads(request)
        .select_related("article")
        .defer("article__body", "article__body_text")
        .order_by("-created_at", "-id")
    )
    query = request.GET.get("q", "").strip()
    if query:
        items = items.filter(
            Q(article__headline__icontains=query)
            | Q(title__icontains=query)
            | Q(canonical_url__icontains=query)
        )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _base_context(request)
    context.update({"page": page, "q": query})
    return render(request, "moderation/threads.html", context)


@moderator_required
@require_POST
def thread_update(request: HttpRequest, pk: int) -> HttpResponse:
    thread = get_object_or_404(_site_threads(request), pk=pk)
    try:
        services.update_thread(
            thread,
            by=request.user,
            closed=request.POST.get("closed") == "1",
            premoderated=request.POST.get("premoderated") == "1",
            notice=request.POST.get("notice"),
        )
        messages.success(
            request, _("Settings of “%(thread)s” saved.") % {"thread": thread.display_title}
        )
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:threads")))


@moderator_required
@require_POST
def article_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Close comments or pre-moderate one article (the thread is created if needed)."""
    from civility.discussion.selectors import get_published_article_or_404
    from civility.discussion.services import thread_for_article

    article = get_published_article_or_404(slug)
    if article.site_id != request_site_id(request):
        raise Http404(_("No such article on this site."))
    thread = thread_for_article(article)
    return thread_update(request, thread.pk)


@moderator_required
def audit(request: HttpRequest) -> HttpResponse:
    entries = _site_audit(request)
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action__startswith=action)
    user_id = request.GET.get("user", "").strip()
    if user_id.isdigit():
        entries = entries.filter(subject_user_id=int(user_id))
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    context = _base_context(request)
    context.update({"page": page, "action": action, "user_filter": user_id})
    return render(request, "moderation/audit.html", context)
