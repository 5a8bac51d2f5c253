"""Browser journeys of issue 4 (Chromium via Playwright; screenshots in docs/screenshots/).

1. A reader posts a clean comment (published), an insult (removed: rule 5, with the evidence
   highlighted) and an off-topic comment (held for review).
2. A moderator opens Pending, sees the highlighted evidence, approves with the keyboard; the
   reader sees the comment published. The moderator edits a comment; the diff shows.
3. A moderator blocks the reader, who can no longer post; the reader files an unlock request,
   the moderator restores access, the reader posts again; after a second block the unlock
   form refuses.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from tests.browser._comments_helpers import shot, signed_in_page, watch_errors
from tests.discussion.conftest import make_article, make_user

from civility.discussion.models import Comment, CommentStatus, HoldReason
from civility.discussion.services import post_comment, thread_for_article

CLEAN = "The resumption of the peace treaty talks is welcome; both ministers sounded cautious about the islands."
INSULT = "You are a worthless idiot and everyone here hates you"
OFF_TOPIC = "Does anyone have a good recipe for sourdough bread with rye flour and caraway seeds?"


def missing_engine_families(*names: str) -> bool:
    from civility.standards.detectors.registry import missing_families

    return any(name in path for path in missing_families() for name in names)


@pytest.fixture
def site(transactional_db: None, live_server: Any, settings: Any) -> dict[str, Any]:
    settings.CIVILITY_RATE_POST = "1000/60"
    return {
        "url": str(live_server.url),
        "article": make_article(),
        "reader": make_user("alice@example.org", name="Alice"),
        "moderator": make_user("mona@example.org", name="Mona", moderator=True),
    }


def lenient() -> None:
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    base = site_default_policy()
    save_policy(
        Policy.from_dict({"rules": {s: {"enabled": False} for s in base.rules}}, base=base), by=None
    )


def post_from_article_page(page: Page, text: str) -> None:
    form = page.locator("form[data-comment-form]").first
    form.locator("textarea").fill(text)
    form.get_by_role("button", name="Post comment").click()


@pytest.mark.skipif(
    missing_engine_families("learned", "topic"),
    reason="journey 1 needs the insult and off-topic detectors (engine issue)",
)
def test_journey_1_reader_sees_published_removed_and_held(
    browser: Browser, site: dict[str, Any]
) -> None:
    from civility.moderation.selectors import site_default_policy
    from civility.moderation.services import save_policy
    from civility.standards.policy import Policy

    # This publisher removes insults outright: anything the insult rule holds, it removes.
    shipped = site_default_policy()
    insult = shipped.rule("insult")
    save_policy(
        Policy.from_dict({"rules": {"insult": {"reject": insult.queue}}}, base=shipped), by=None
    )
    base, article = site["url"], site["article"]
    context, page = signed_in_page(browser, base, site["reader"])
    errors = watch_errors(page)
    page.goto(base + article.get_absolute_url())

    post_from_article_page(page, CLEAN)
    status = page.locator("form[data-comment-form] [data-form-status]").first
    expect(status).to_have_text("Your comment is published.")
    expect(page.locator(".comment", has_text="peace treaty talks is welcome")).to_be_visible()
    expect(page.locator("[data-comment-count]")).to_have_text("1")

    post_from_article_page(page, INSULT)
    expect(status).to_contain_text("removed: rule 5, Insult")
    insult = page.locator(".comment--rejected", has_text="worthless")
    expect(insult.locator("mark.evidence").first).to_be_visible()

    post_from_article_page(page, OFF_TOPIC)
    expect(status).to_have_text("Your comment is held for review.")
    shot(page, "comments-journey1-author-view.png")

    page.goto(base + "/my/comments/")
    expect(page.get_by_text("Your comment was removed: rule 5, Insult.")).to_be_visible()
    expect(page.get_by_text("Your comment is held for review.")).to_be_visible()
    expect(page.locator("mark.evidence").first).to_be_visible()
    shot(page, "comments-my-comments.png")

    # Nobody else sees the removed or held comments.
    anonymous = browser.new_page()
    anonymous.goto(base + article.get_absolute_url())
    expect(anonymous.locator("#comments")).to_contain_text("peace treaty talks is welcome")
    expect(anonymous.locator("#comments")).not_to_contain_text("worthless")
    expect(anonymous.locator("#comments")).not_to_contain_text("sourdough")
    anonymous.close()
    context.close()
    assert errors == []


def test_journey_1_without_javascript_the_form_still_works(
    browser: Browser, site: dict[str, Any]
) -> None:
    lenient()
    base, article = site["url"], site["article"]
    from django.conf import settings as django_settings
    from django.test import Client

    client = Client()
    client.force_login(site["reader"])
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )
    page = context.new_page()
    page.goto(base + article.get_absolute_url())
    post_from_article_page(page, CLEAN)
    expect(page.locator(".messages")).to_contain_text("Your comment is published.")
    comment = Comment.objects.get()
    expect(page).to_have_url(re.compile(rf"#comment-{comment.pk}$"))
    # Reply without JavaScript: the comment's Reply link opens the reply page, whose form
    # posts the reply and comes back to the thread.
    page.locator(f"#comment-{comment.pk}").get_by_role("link", name="Reply").click()
    expect(page).to_have_url(re.compile(rf"/comments/{comment.pk}/reply/$"))
    page.get_by_label("Text").fill("Replying without any script at all.")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator(f"#comment-{comment.pk} .comment-list--replies")).to_contain_text(
        "without any script"
    )
    shot(page, "comments-thread-no-js.png")
    context.close()


def held_with_evidence(author: Any, article: Any, text: str) -> Comment:
    comment = post_comment(author=author, thread=thread_for_article(article), text=text).comment
    start = text.index("idiot")
    Comment.objects.filter(pk=comment.pk).update(
        status=CommentStatus.PENDING,
        hold_reason=HoldReason.ENGINE,
        fired_rules=",insult,",
        verdict={
            "decision": "queue",
            "rules": ["insult"],
            "scores": {"insult": 0.74, "trolling": 0.31},
            "thresholds": {"insult": {"queue": 0.5, "reject": 0.9, "enabled": True}},
            "evidence": [
                {
                    "rule": "insult",
                    "explanation": "insulting term",
                    "start": start,
                    "end": start + 5,
                    "text": "idiot",
                }
            ],
            "engine_version": "test",
            "policy_version": "test",
        },
    )
    comment.refresh_from_db()
    return comment


def test_journey_2_moderator_approves_from_pending_and_edits_with_a_diff(
    browser: Browser, site: dict[str, Any]
) -> None:
    lenient()
    base, article, reader = site["url"], site["article"], site["reader"]
    text = "Calling the minister an idiot was unfair, but the talks on the islands are stalling."
    held = held_with_evidence(reader, article, text)

    mod_context, mod = signed_in_page(browser, base, site["moderator"])
    errors = watch_errors(mod)
    mod.goto(base + "/moderation/")
    expect(mod.locator("svg.chart")).to_have_count(6)
    shot(mod, "moderation-dashboard.png")
    mod.get_by_role("link", name=re.compile("^Pending")).first.click()
    card = mod.locator(f"#card-{held.pk}")
    expect(card.locator("[data-card-text] mark.evidence")).to_have_text("idiot")
    expect(card.locator(".score--fired[data-rule=insult]")).to_be_visible()
    shot(mod, "moderation-pending-queue.png")
    mod.keyboard.press("j")
    expect(card).to_have_class(re.compile("is-focused"))
    mod.keyboard.press("a")
    expect(mod.locator(".messages")).to_contain_text(f"Comment {held.pk} approved.")
    held.refresh_from_db()
    assert held.status == CommentStatus.PUBLISHED

    reader_context, reader_page = signed_in_page(browser, base, reader)
    reader_page.goto(base + "/my/comments/")
    expect(reader_page.locator(f"#my-comment-{held.pk} [data-status]")).to_have_text(
        "Your comment is published."
    )
    reader_page.goto(base + article.get_absolute_url())
    expect(reader_page.locator(f"#comment-{held.pk}")).to_contain_text(
        "talks on the islands are stalling"
    )

    mod.goto(base + f"/moderation/comments/{held.pk}/edit/")
    mod.locator("textarea[name=text]").fill(text.replace("an idiot", "incompetent"))
    mod.locator("input[name=reason]").fill("personal attack softened")
    mod.get_by_role("button", name="Save edit").click()
    diff = mod.locator("[data-diff]").first
    expect(diff.locator("del")).to_contain_text("idiot")
    expect(diff.locator("ins")).to_contain_text("incompetent")
    expect(mod.locator("[data-audit]")).to_contain_text("comment.edited_by_moderator")
    shot(mod, "moderation-edit-diff.png")
    reader_context.close()
    mod_context.close()
    assert errors == []


def test_journey_3_block_unlock_restore_and_final_block(
    browser: Browser, site: dict[str, Any]
) -> None:
    lenient()
    base, article, reader = site["url"], site["article"], site["reader"]
    post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    mod_context, mod = signed_in_page(browser, base, site["moderator"])
    reader_context, page = signed_in_page(browser, base, reader)

    mod.goto(base + f"/moderation/users/{reader.pk}/")
    block_form = mod.locator("form", has=mod.locator("[data-block]"))
    block_form.locator("input[name=reason]").fill("repeated insults")
    block_form.locator("[data-block]").click()
    expect(mod.locator("[data-user-state]")).to_contain_text("blocked")

    page.goto(base + article.get_absolute_url())
    notice = page.locator(".comments__notice--blocked")
    expect(notice).to_contain_text("you can read comments but not post")
    expect(page.locator("form[data-comment-form]")).to_have_count(0)
    expect(page.locator("#comments")).to_contain_text(
        "peace treaty talks is welcome"
    )  # can still read
    shot(page, "comments-blocked-reader.png")
    notice.get_by_role("link", name="Request to unlock your account").click()

    expect(page.locator("#unlock-subject")).to_have_value("restoration of account / unlock access")
    expect(page.locator("#unlock-user-id")).to_have_value(str(reader.pk))
    page.locator("#unlock-explanation").fill("too short")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("[data-error]")).to_contain_text("at least 30 characters")
    page.locator("#unlock-explanation").fill(
        "I insulted another reader twice. I understand the rules now and will keep to them."
    )
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("[data-unlock-sent]")).to_be_visible()

    mod.goto(base + "/moderation/appeals/")
    appeal = mod.locator("[data-appeal]").first
    expect(appeal).to_contain_text("I understand the rules now")
    expect(appeal.locator("[data-age]")).to_contain_text("waiting")
    shot(mod, "moderation-appeals.png")
    appeal.locator("textarea[name=message]").fill("Access restored. Please keep to the standards.")
    appeal.get_by_role("button", name="Restore access").click()
    expect(mod.locator(".messages")).to_contain_text("access restored")

    page.goto(base + article.get_absolute_url())
    post_from_article_page(
        page, "Back again, and the talks deserve a calmer discussion than before."
    )
    expect(page.locator("form[data-comment-form] [data-form-status]").first).to_have_text(
        "Your comment is published."
    )

    mod.goto(base + f"/moderation/users/{reader.pk}/")
    mod.locator("[data-block]").click()
    page.goto(base + "/unlock/")
    expect(page.locator("[data-refusal]")).to_contain_text("second block is final")
    expect(page.locator("form")).not_to_have_count(0)  # the site search form remains
    expect(page.locator("#unlock-explanation")).to_have_count(0)
    shot(page, "comments-unlock-refused.png")
    mod_context.close()
    reader_context.close()


def test_moderator_replays_a_draft_policy_before_saving_it(
    browser: Browser, site: dict[str, Any]
) -> None:
    lenient()
    base, article, reader = site["url"], site["article"], site["reader"]
    thread = thread_for_article(article)
    for n in range(3):
        post_comment(
            author=reader,
            thread=thread,
            text=f"THIS TREATY IS A DISGRACE AND THE MINISTERS MUST GO NOW {n}",
        )
    post_comment(author=reader, thread=thread, text=CLEAN)
    context, mod = signed_in_page(browser, base, site["moderator"])
    mod.goto(base + "/moderation/policy/")
    mod.get_by_label("Written-language rules on").check()
    mod.get_by_label("Written-language rules hold threshold").fill("0.3")
    mod.get_by_label("Written-language rules remove threshold").fill("0.35")
    mod.locator("[data-replay-button]").click()
    expect(mod.locator("[data-replay-changed]")).to_have_text("3")
    expect(mod.locator("[data-replay]")).to_contain_text("19. Written-language rules")
    shot(mod, "moderation-policy-replay.png")
    from civility.moderation.models import PolicyVersion

    before = PolicyVersion.objects.count()
    mod.locator("[data-save-button]").click()
    expect(mod.locator(".messages")).to_contain_text("Policy saved")
    assert PolicyVersion.objects.count() == before + 1
    context.close()


def test_moderator_features_a_comment_and_readers_see_it_above_the_thread(
    browser: Browser, site: dict[str, Any]
) -> None:
    lenient()
    base, article, reader = site["url"], site["article"], site["reader"]
    thread = thread_for_article(article)
    post_comment(author=reader, thread=thread, text=CLEAN)
    pick = post_comment(
        author=site["moderator"],
        thread=thread,
        text="Residents of the islands were not consulted once in ten years of talks. "
        "Any treaty that ignores them will not hold.",
    ).comment
    assert pick.status == CommentStatus.PUBLISHED

    context, mod = signed_in_page(browser, base, site["moderator"])
    errors = watch_errors(mod)
    mod.goto(base + "/moderation/queue/approved/")
    card = mod.locator(f"#card-{pick.pk}")
    card.get_by_role("button", name="Feature as an editors' pick").click()
    expect(mod.locator(".messages")).to_contain_text(f"Comment {pick.pk} is now an editors' pick.")
    expect(mod.locator(f"#card-{pick.pk} [data-featured]")).to_have_text("Editors' pick")
    mod.goto(base + "/moderation/queue/featured/")
    expect(mod.locator("[data-card]")).to_have_count(1)

    anonymous = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="en-GB")
    page = anonymous.new_page()
    page.goto(base + article.get_absolute_url())
    box = page.locator("[data-featured-comments]")
    expect(box).to_be_visible()
    expect(box.get_by_role("heading")).to_have_text("Editors' picks")
    expect(box).to_contain_text("Any treaty that ignores them will not hold.")
    expect(page.locator(f"#comment-{pick.pk} .comment__badge")).to_have_text("Editors' pick")
    expect(page.locator(".comment__badge")).to_have_count(1)
    box.get_by_role("link", name="Go to the comment").click()
    expect(page).to_have_url(re.compile(rf"/comments/{pick.pk}/$"))
    page.goto(base + article.get_absolute_url())
    box.scroll_into_view_if_needed()
    shot(page, "thread-editors-picks.png", full_page=False)

    mod.goto(base + "/moderation/queue/featured/")
    mod.locator(f"#card-{pick.pk}").get_by_role("button", name="Remove from editors' picks").click()
    expect(mod.locator(".messages")).to_contain_text(f"Comment {pick.pk} is no longer featured.")
    page.goto(base + article.get_absolute_url())
    expect(page.locator("[data-featured-comments]")).to_have_count(0)
    anonymous.close()
    context.close()
    assert errors == []


def test_a_reader_recommends_a_comment_and_the_page_keeps_it_marked(
    browser: Browser, site: dict[str, Any]
) -> None:
    lenient()
    base, article, reader = site["url"], site["article"], site["reader"]
    thread = thread_for_article(article)
    first = post_comment(author=reader, thread=thread, text=CLEAN).comment
    second = post_comment(
        author=reader, thread=thread, text="The fishermen's rights should come first."
    ).comment
    bob = make_user("bob@example.org", name="Bob")
    context, page = signed_in_page(browser, base, bob)
    errors = watch_errors(page)
    page.goto(base + article.get_absolute_url())
    button = page.locator(f"#comment-{second.pk} button[data-recommend]")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator("[data-recommend-count]")).to_have_text("1")
    page.reload()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#comment-{first.pk} button[data-recommend]")).to_have_attribute(
        "aria-pressed", "false"
    )
    page.goto(base + article.get_absolute_url() + "?sort=recommended#comments")
    expect(page.locator("ol[data-comment-list] > li.comment").first).to_have_id(
        f"comment-{second.pk}"
    )
    shot(page, "thread-recommended.png", full_page=False)
    button = page.locator(f"#comment-{second.pk} button[data-recommend]")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button.locator("[data-recommend-count]")).to_have_text("0")
    anonymous = browser.new_context()
    plain = anonymous.new_page()
    plain.goto(base + article.get_absolute_url())
    expect(plain.locator("button[data-recommend]")).to_have_count(0)
    anonymous.close()
    context.close()
    assert errors == []


def test_a_journalists_reply_shows_the_staff_badge(browser: Browser, site: dict[str, Any]) -> None:
    lenient()
    journalist = make_user("desk@example.org", name="Anna Sato")
    journalist.staff_badge = True
    journalist.save(update_fields=["staff_badge"])
    thread = thread_for_article(site["article"])
    question = post_comment(
        author=site["reader"], thread=thread, text="When is the next round of the talks?"
    ).comment
    answer = post_comment(
        author=journalist,
        thread=thread,
        text="Both delegations confirmed the date to us; our correspondent will be there.",
        parent=question,
    ).comment
    page = browser.new_page()
    errors = watch_errors(page)
    page.goto(f"{site['url']}/news/{site['article'].slug}/")
    badge = page.locator(f"#comment-{answer.pk} > article [data-staff]")
    expect(badge).to_be_visible()
    expect(badge).to_have_text(re.compile("staff", re.I))
    expect(page.locator(f"#comment-{question.pk} > article [data-staff]")).to_have_count(0)
    # Readable: white on the link colour, not the editors' pick's yellow.
    colours = badge.evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    assert colours[0] == "rgb(255, 255, 255)" and colours[1] != "rgb(255, 241, 199)"
    page.close()
    assert errors == []


def test_a_reader_ignores_a_commenter_and_takes_it_back(
    browser: Browser, site: dict[str, Any]
) -> None:
    lenient()
    bob = make_user("bob@example.org", name="Bob")
    thread = thread_for_article(site["article"])
    loud = post_comment(
        author=bob, thread=thread, text="Anyone who follows these talks is naive, frankly."
    ).comment
    reply = post_comment(
        author=site["moderator"],
        thread=thread,
        text="Naive or not, a date for the next round is progress.",
        parent=loud,
    ).comment
    context, page = signed_in_page(browser, site["url"], site["reader"])
    errors = watch_errors(page)
    page.goto(f"{site['url']}/news/{site['article'].slug}/")
    page.locator(f"#comment-{loud.pk} > article a.comment__ignore").click()
    expect(page.locator("h1")).to_have_text("Ignore Bob?")
    page.get_by_role("button", name="Ignore Bob").click()
    notice = page.locator(f"#comment-{loud.pk} > article [data-ignored]")
    expect(notice).to_contain_text("A comment by Bob, whom you ignore.")
    expect(page.locator(f"#comment-{loud.pk}")).not_to_contain_text("naive, frankly")
    expect(page.locator(f"#comment-{reply.pk}")).to_contain_text("a date for the next round")
    shot(page, "thread-ignored-commenter.png", full_page=False)

    notice.get_by_role("link", name="Manage ignored commenters").click()
    expect(page.locator("[data-ignored-list]")).to_contain_text("Bob")
    page.get_by_role("button", name="Stop ignoring").click()
    expect(page.locator("[data-ignored-list]")).to_contain_text("You ignore nobody.")
    page.goto(f"{site['url']}/news/{site['article'].slug}/")
    expect(page.locator(f"#comment-{loud.pk}")).to_contain_text("naive, frankly")
    context.close()
    assert errors == []


def test_a_moderator_suspends_a_reader_for_a_day_and_notes_why(
    browser: Browser, site: dict[str, Any]
) -> None:
    lenient()
    mod_context, mod_page = signed_in_page(browser, site["url"], site["moderator"])
    errors = watch_errors(mod_page)
    mod_page.goto(f"{site['url']}/moderation/users/{site['reader'].pk}/")
    form = mod_page.locator("form[data-suspend-form]")
    form.locator("select[name=hours]").select_option(label="1 day")
    form.locator("input[name=reason]").fill("Insults in three threads tonight.")
    form.locator("button[data-suspend]").click()
    expect(mod_page.locator("[data-user-state] [data-suspended]")).to_contain_text(
        "suspended until"
    )

    context, page = signed_in_page(browser, site["url"], site["reader"])
    errors += watch_errors(page)
    page.goto(f"{site['url']}/news/{site['article'].slug}/")
    expect(page.locator("[data-suspended]")).to_contain_text("suspended your account until")
    expect(page.locator("form[data-comment-form]")).to_have_count(0)

    mod_page.locator("button[data-lift-suspension]").click()
    expect(mod_page.locator("[data-user-state] [data-suspended]")).to_have_count(0)
    # A note for the other moderators, on the same page.
    mod_page.locator("[data-note-form] textarea").fill("Suspended a day, lifted after an apology.")
    mod_page.locator("[data-note-form] button").click()
    expect(mod_page.locator("[data-notes]")).to_contain_text("lifted after an apology")
    shot(mod_page, "moderation-user-suspension-and-notes.png")
    page.reload()
    expect(page.locator("form[data-comment-form]")).to_have_count(1)
    context.close()
    mod_context.close()
    assert errors == []
