"""Moderators' pages. Every view here is wrapped by ``moderator_required`` (the URLconf test
checks that no route escapes it). Views parse input and call a service."""

from __future__ import annotations

import difflib
import html
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from civility.discussion.errors import DiscussionError
from civility.discussion.models import Comment, Thread
from civility.discussion.rendering import render_comment_html
from civility.moderation import charts, queues, services, stats
from civility.moderation.models import Appeal, AppealStatus, AuditLog, ContactMessage, PolicyVersion
from civility.moderation.permissions import moderator_required
from civility.moderation.replay import PolicyForm, replay
from civility.moderation.selectors import active_policy, author_history
from civility.standards.rules import RULES, RULES_BY_SLUG

PAGE_SIZE = 25


def _back(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target.startswith("/moderation/") else default


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


def card(comment: Comment, histories: dict[int, Any]) -> dict[str, Any]:
    if comment.author_id not in histories:
        histories[comment.author_id] = author_history(comment.author)
    fired = comment.verdict.get("rules", []) if comment.verdict else []
    suggested = comment.rule or (fired[0] if fired else "")
    if not suggested:
        report = comment.reports.order_by("-created_at").first()
        suggested = report.rule if report else ""
    return {
        "comment": comment,
        "html": render_comment_html(comment.text, comment.evidence),
        "parent_html": render_comment_html(comment.parent.text)
        if comment.parent_id and comment.parent
        else "",
        "scores": _scores(comment),
        "evidence": comment.evidence,
        "history": histories[comment.author_id],
        "reports": list(comment.reports.select_related("reporter").order_by("-created_at")[:10]),
        "suggested_rule": suggested,
        "error": (comment.verdict or {}).get("error", ""),
    }


def _base_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "queue_counts": queues.queue_counts(),
        "queues": queues.QUEUES,
        "open_appeals": Appeal.objects.filter(status=AppealStatus.OPEN).count(),
        "open_messages": ContactMessage.objects.filter(handled_at__isnull=True).count(),
        "rules": RULES,
    }


# --- Dashboard and queues -----------------------------------------------------------------------


@moderator_required
def dashboard(request: HttpRequest) -> HttpResponse:
    figures = stats.dashboard()
    per_day = figures["per_day"]
    by_rule = figures["by_rule"]
    queue_sizes = figures["queues"]
    appeals = figures["appeals"]
    context = _base_context(request)
    context.update(
        {
            "figures": figures,
            "chart_per_day": charts.bar_chart(
                "Comments per day (last 30 days)",
                [d.strftime("%d %b") for d, _ in per_day],
                [("comments", [float(n) for _, n in per_day])],
            ),
            "chart_by_rule": charts.bar_chart(
                "Removals by rule (last 30 days)",
                [label for label, _, _ in by_rule] or ["none"],
                [
                    ("engine", [float(e) for _, e, _ in by_rule] or [0.0]),
                    ("moderators", [float(h) for _, _, h in by_rule] or [0.0]),
                ],
            ),
            "chart_queues": charts.bar_chart(
                "Queue sizes now",
                [queues.QUEUES[name] for name in ("pending", "reported", "rejected", "approved")],
                [
                    (
                        "comments",
                        [
                            float(queue_sizes[n])
                            for n in ("pending", "reported", "rejected", "approved")
                        ],
                    )
                ],
            ),
            "chart_median": charts.bar_chart(
                "Median minutes to a decision, by day posted",
                [d.strftime("%d %b") for d, _, _ in figures["median_by_day"]],
                [
                    ("engine", [e for _, e, _ in figures["median_by_day"]]),
                    ("moderators", [h for _, _, h in figures["median_by_day"]]),
                ],
                stacked=False,
            ),
            "chart_appeals": charts.bar_chart(
                "Unlock requests by outcome",
                ["open", "restored", "refused"],
                [("requests", [float(appeals[k]) for k in ("open", "restored", "refused")])],
            ),
            "median": figures["median"],
        }
    )
    return render(request, "moderation/dashboard.html", context)


@moderator_required
def queue_view(request: HttpRequest, name: str) -> HttpResponse:
    if name not in queues.QUEUES:
        raise Http404("No such queue.")
    filters = queues.Filters.from_query(request.GET)
    comments = filters.apply(queues.queue(name))
    page = Paginator(comments, PAGE_SIZE).get_page(request.GET.get("page"))
    histories: dict[int, Any] = {}
    context = _base_context(request)
    context.update(
        {
            "queue": name,
            "queue_title": queues.QUEUES[name],
            "page": page,
            "cards": [card(c, histories) for c in page],
            "filters": filters,
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "moderation/queue.html", context)


@moderator_required
def comment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(
        Comment.objects.select_related(
            "author", "thread", "thread__article", "parent", "parent__author"
        ),
        pk=pk,
    )
    revisions = [
        {"revision": r, "diff": word_diff(r.text_before, r.text_after)}
        for r in comment.revisions.select_related("editor").order_by("created_at", "id")
    ]
    context = _base_context(request)
    context.update(
        {
            "card": card(comment, {}),
            "revisions": revisions,
            "audit": AuditLog.objects.filter(
                target_type="discussion.comment", target_id=str(comment.pk)
            ),
        }
    )
    return render(request, "moderation/comment.html", context)


@moderator_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment, pk=pk)
    try:
        services.approve_comment(comment, moderator=request.user, note=request.POST.get("note", ""))
        messages.success(request, f"Comment {pk} approved.")
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:comment", args=[pk])))


@moderator_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment, pk=pk)
    try:
        services.reject_comment(
            comment,
            moderator=request.user,
            rule=request.POST.get("rule", ""),
            note=request.POST.get("note", ""),
        )
        messages.success(request, f"Comment {pk} rejected.")
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:comment", args=[pk])))


@moderator_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment.objects.select_related("author", "thread"), pk=pk)
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
        messages.success(request, "The comment was edited; the change is in its history.")
        return redirect("moderation:comment", pk=pk)
    return render(request, "moderation/edit.html", context)


@moderator_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    action = request.POST.get("action", "")
    comments = list(Comment.objects.filter(pk__in=ids))
    if action not in ("approve", "reject") or not comments:
        messages.error(request, "Choose comments and an action.")
    elif action == "reject" and request.POST.get("rule", "") not in RULES_BY_SLUG:
        messages.error(request, "Choose the rule the comments break.")
    else:
        done = services.bulk_decide(
            comments, moderator=request.user, action=action, rule=request.POST.get("rule", "")
        )
        messages.success(request, f"{done} comment(s): {action}d.")
    return redirect(_back(request, reverse("moderation:queue", args=["pending"])))


# --- Users and sanctions ------------------------------------------------------------------------------


def _user_or_404(pk: int) -> Any:
    return get_object_or_404(get_user_model(), pk=pk)


@moderator_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    context = _base_context(request)
    context.update(
        {
            "subject": user,
            "history": author_history(user),
            "strikes": user.strikes.select_related("comment").all()[:50],
            "blocks": user.blocks.all(),
            "appeals": Appeal.objects.filter(user=user),
            "comments": Comment.objects.filter(author=user)
            .select_related("thread", "thread__article")
            .order_by("-created_at")[:30],
            "audit": AuditLog.objects.filter(subject_user=user)[:100],
        }
    )
    return render(request, "moderation/user.html", context)


@moderator_required
@require_POST
def block(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    result = services.block_user(
        user, moderator=request.user, reason=request.POST.get("reason", "")
    )
    messages.success(
        request, f"{user} is blocked{' (final: second block)' if result.final else ''}."
    )
    return redirect(_back(request, reverse("moderation:user", args=[pk])))


@moderator_required
@require_POST
def restore(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    try:
        services.restore_access(user, moderator=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"Access restored for {user}.")
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect(_back(request, reverse("moderation:user", args=[pk])))


@moderator_required
@require_POST
def premoderation(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    on = request.POST.get("on") == "1"
    services.set_premoderation(user, on=on, by=request.user)
    messages.success(request, f"Pre-moderation {'on' if on else 'off'} for {user}.")
    return redirect(_back(request, reverse("moderation:user", args=[pk])))


@moderator_required
@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user_or_404(pk)
    if request.method == "POST":
        try:
            services.delete_account(user, moderator=request.user)
            messages.success(
                request, f"The account of {user} was deleted; its comments are hidden."
            )
        except DiscussionError as exc:
            messages.error(request, exc.message)
        return redirect("moderation:user", pk=pk)
    context = _base_context(request)
    context["subject"] = user
    return render(request, "moderation/delete_account.html", context)


# --- Appeals and messages -------------------------------------------------------------------------------


@moderator_required
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


@moderator_required
@require_POST
def decide_appeal(request: HttpRequest, pk: int) -> HttpResponse:
    appeal = get_object_or_404(Appeal, pk=pk)
    decision = request.POST.get("decision", "")
    if decision not in ("restore", "refuse"):
        messages.error(request, "Choose restore or refuse.")
        return redirect("moderation:appeals")
    try:
        services.decide_unlock_request(
            appeal,
            moderator=request.user,
            restore=decision == "restore",
            message=request.POST.get("message", ""),
        )
        messages.success(
            request,
            f"Request {pk}: {'access restored' if decision == 'restore' else 'refused'}; the user was e-mailed.",
        )
    except DiscussionError as exc:
        messages.error(request, exc.message)
    return redirect("moderation:appeals")


@moderator_required
def contact_messages(request: HttpRequest) -> HttpResponse:
    show = request.GET.get("show", "open")
    items = ContactMessage.objects.select_related("user", "handled_by")
    if show == "open":
        items = items.filter(handled_at__isnull=True)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _base_context(request)
    context.update({"page": page, "show": show})
    return render(request, "moderation/messages.html", context)


@moderator_required
@require_POST
def message_handled(request: HttpRequest, pk: int) -> HttpResponse:
    services.mark_message_handled(get_object_or_404(ContactMessage, pk=pk), moderator=request.user)
    return redirect("moderation:messages")


# --- Policy, threads, audit -------------------------------------------------------------------------


@moderator_required
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    """Edit the policy. "Replay" runs the draft over recent comments; "Save" activates it."""
    current, version = active_policy()
    form = PolicyForm.from_request(request, current, version)
    context = _base_context(request)
    context.update(
        {
            "form": form,
            "current": current,
            "version": version,
            "versions": PolicyVersion.objects.select_related("created_by")[:20],
        }
    )
    if request.method == "POST":
        draft = form.policy()
        if draft is None:
            return render(request, "moderation/policy.html", context, status=400)
        if request.POST.get("action") == "save":
            services.save_policy(
                draft, by=request.user, premoderate_all=form.premoderate_all, note=form.note
            )
            messages.success(
                request, f"Policy saved (version {draft.version}); the engine uses it now."
            )
            return redirect("moderation:policy")
        context["replay"] = replay(draft, current, limit=form.replay_count)
        context["draft_version"] = draft.version
    return render(request, "moderation/policy.html", context)


@moderator_required
def threads(request: HttpRequest) -> HttpResponse:
    items = Thread.objects.select_related("article").order_by("-created_at", "-id")
    query = request.GET.get("q", "").strip()
    if query:
        from django.db.models import Q

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
    thread = get_object_or_404(Thread, pk=pk)
    services.update_thread(
        thread,
        by=request.user,
        closed=request.POST.get("closed") == "1",
        premoderated=request.POST.get("premoderated") == "1",
    )
    messages.success(request, f"Settings of “{thread.display_title}” saved.")
    return redirect(_back(request, reverse("moderation:threads")))


@moderator_required
@require_POST
def article_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """Close comments or pre-moderate one article (the thread is created if needed)."""
    from civility.discussion.selectors import get_published_article_or_404
    from civility.discussion.services import thread_for_article

    thread = thread_for_article(get_published_article_or_404(slug))
    return thread_update(request, thread.pk)


@moderator_required
def audit(request: HttpRequest) -> HttpResponse:
    entries = AuditLog.objects.select_related("actor", "subject_user")
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
