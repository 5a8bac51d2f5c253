"""The article page's thread through HTTP: post, reply, edit, delete, report, sort, depth."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civility.discussion.models import Comment, CommentStatus, Report
from civility.discussion.services import post_comment, thread_for_article

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

CLEAN = "The talks on the peace treaty and the islands seem to be making slow progress."


def test_anonymous_sees_the_thread_and_a_sign_in_link(article: Any, reader: Any) -> None:
    post_comment(author=reader, thread=thread_for_article(article), text=CLEAN)
    page = Client().get(article.get_absolute_url()).content.decode()
    assert 'id="comments"' in page
    assert "slow progress" in page
    assert "Sign in to comment" in page


def test_post_without_javascript_redirects_to_the_comment(
    reader_client: Client, article: Any
) -> None:
    response = reader_client.post(f"/news/{article.slug}/comments/", {"text": CLEAN})
    assert response.status_code == 302
    comment = Comment.objects.get()
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    page = reader_client.get(response["Location"]).content.decode()
    assert "Your comment is published." in page
    assert f'id="comment-{comment.pk}"' in page


def test_post_with_javascript_gets_json_and_the_rendered_comment(
    reader_client: Client, article: Any
) -> None:
    response = reader_client.post(
        f"/news/{article.slug}/comments/", {"text": CLEAN}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "published"
    assert f'id="comment-{data["id"]}"' in data["html"]


def test_empty_comment_form_shows_the_error(reader_client: Client, article: Any) -> None:
    response = reader_client.post(f"/news/{article.slug}/comments/", {"text": "  "})
    assert response.status_code == 400
    assert "The comment is empty." in response.content.decode()


def test_anonymous_post_goes_to_login(article: Any) -> None:
    response = Client().post(f"/news/{article.slug}/comments/", {"text": CLEAN})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_reply_appears_under_its_parent(reader: Any, other_reader: Any, article: Any) -> None:
    thread = thread_for_article(article)
    parent = post_comment(author=reader, thread=thread, text=CLEAN).comment
    client = Client()
    client.force_login(other_reader)
    client.post(
        f"/news/{article.slug}/comments/",
        {"text": "I agree, the islands are the key.", "parent_id": parent.pk},
    )
    reply = Comment.objects.get(parent=parent)
    assert reply.depth == 1
    page = Client().get(article.get_absolute_url()).content.decode()
    assert page.index(f'id="comment-{parent.pk}"') < page.index(f'id="comment-{reply.pk}"')


def test_reply_to_a_comment_of_another_article_is_refused(
    reader_client: Client, reader: Any, article: Any
) -> None:
    from tests.discussion.conftest import make_article

    other = make_article("other-story", headline="Another story")
    foreign = post_comment(author=reader, thread=thread_for_article(other), text=CLEAN).comment
    response = reader_client.post(
        f"/news/{article.slug}/comments/", {"text": CLEAN, "parent_id": foreign.pk}
    )
    assert response.status_code == 400


def test_author_edits_within_five_minutes_and_the_edit_is_moderated_again(
    reader_client: Client, reader: Any, article: Any
) -> None:
    comment = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    response = reader_client.post(f"/comments/{comment.pk}/edit/", {"text": CLEAN + " Edited."})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.text.endswith("Edited.")
    assert comment.revisions.count() == 1
    assert comment.status == CommentStatus.PUBLISHED
    assert comment.engine_checked_at is not None


def test_edit_after_five_minutes_is_refused(
    reader_client: Client, reader: Any, article: Any
) -> None:
    comment = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    response = reader_client.post(f"/comments/{comment.pk}/edit/", {"text": "changed"})
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.text == CLEAN


def test_only_the_author_can_edit_or_delete(other_reader: Any, reader: Any, article: Any) -> None:
    comment = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    client = Client()
    client.force_login(other_reader)
    assert client.post(f"/comments/{comment.pk}/edit/", {"text": "x"}).status_code == 404
    assert client.post(f"/comments/{comment.pk}/delete/").status_code == 404


def test_deleted_comment_leaves_a_tombstone_that_keeps_replies(
    reader: Any, reader_client: Client, other_reader: Any, article: Any
) -> None:
    thread = thread_for_article(article)
    parent = post_comment(author=reader, thread=thread, text=CLEAN).comment
    reply = post_comment(
        author=other_reader, thread=thread, text="A reply about the treaty talks.", parent=parent
    ).comment
    assert reader_client.post(f"/comments/{parent.pk}/delete/").status_code == 302
    page = Client().get(article.get_absolute_url()).content.decode()
    assert "slow progress" not in page
    assert "deleted by its author" in page
    assert f'id="comment-{reply.pk}"' in page


def test_deleted_comment_without_replies_disappears(
    reader: Any, reader_client: Client, article: Any
) -> None:
    comment = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    reader_client.post(f"/comments/{comment.pk}/delete/")
    page = Client().get(article.get_absolute_url()).content.decode()
    assert f'id="comment-{comment.pk}"' not in page


def test_reader_reports_a_comment_naming_the_rule(
    reader: Any, other_reader: Any, article: Any
) -> None:
    comment = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    client = Client()
    client.force_login(other_reader)
    response = client.post(
        f"/comments/{comment.pk}/report/", {"rule": "off_topic", "note": "not about it"}
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.rule, report.reporter_id) == ("off_topic", other_reader.pk)
    assert client.post(f"/comments/{comment.pk}/report/", {"rule": "bogus"}).status_code == 400


def test_sorting_newest_oldest_and_most_replies(
    reader: Any, other_reader: Any, article: Any
) -> None:
    thread = thread_for_article(article)
    first = post_comment(
        author=reader, thread=thread, text="First comment on the peace treaty talks."
    ).comment
    second = post_comment(
        author=reader, thread=thread, text="Second comment on the Kuril islands dispute."
    ).comment
    post_comment(
        author=other_reader, thread=thread, text="A reply on the peace treaty.", parent=first
    )
    Comment.objects.filter(pk=second.pk).update(created_at=timezone.now() + timedelta(seconds=5))
    client = Client()

    def order(sort: str) -> list[int]:
        page = client.get(f"{article.get_absolute_url()}?sort={sort}").content.decode()
        return sorted((first.pk, second.pk), key=lambda pk: page.index(f'id="comment-{pk}"'))

    assert order("oldest") == [first.pk, second.pk]
    assert order("newest") == [second.pk, first.pk]
    assert order("replies") == [first.pk, second.pk]


def test_deep_threads_continue_on_their_own_page(
    reader: Any, other_reader: Any, article: Any, settings: Any
) -> None:
    settings.CIVILITY_THREAD_MAX_DEPTH = 2
    thread = thread_for_article(article)
    parent = None
    chain = []
    for level in range(5):
        author = reader if level % 2 == 0 else other_reader
        parent = post_comment(
            author=author, thread=thread, text=f"Level {level} on the treaty talks.", parent=parent
        ).comment
        chain.append(parent)
    page = Client().get(article.get_absolute_url()).content.decode()
    assert "Continue this thread" in page
    assert f'id="comment-{chain[4].pk}"' not in page
    deeper = Client().get(f"/comments/{chain[2].pk}/").content.decode()
    assert f'id="comment-{chain[4].pk}"' in deeper


def test_counts_on_article_lists(reader: Any, article: Any) -> None:
    from django.template import Context, Template

    thread = thread_for_article(article)
    post_comment(author=reader, thread=thread, text=CLEAN)
    post_comment(author=reader, thread=thread, text="Another remark about the negotiations.")
    rendered = Template("{% load discussion_tags %}{% comment_count article %}").render(
        Context({"article": article})
    )
    assert rendered == "2"


def test_my_comments_lists_every_status(reader: Any, reader_client: Client, article: Any) -> None:
    from civility.moderation.services import reject_comment
    from tests.discussion.conftest import make_user

    thread = thread_for_article(article)
    kept = post_comment(author=reader, thread=thread, text=CLEAN).comment
    removed = post_comment(
        author=reader, thread=thread, text="Another remark about the negotiations."
    ).comment
    reject_comment(removed, moderator=make_user("m@example.org", moderator=True), rule="insult")
    page = reader_client.get("/my/comments/").content.decode()
    assert "Your comment is published." in page
    assert "Your comment was removed: rule 5, Insult." in page
    assert f'data-comment-id="{kept.pk}"' in page


def test_links_are_nofollow_ugc_and_markup_is_escaped(reader: Any, article: Any) -> None:
    post_comment(
        author=reader,
        thread=thread_for_article(article),
        text="Read https://example.org/treaty about the talks <b>bold</b>",
    )
    page = Client().get(article.get_absolute_url()).content.decode()
    assert 'href="https://example.org/treaty"' in page
    assert 'rel="nofollow ugc noopener"' in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page


def test_a_signed_in_page_carries_one_reply_form_and_one_report_form(
    reader: Any, other_reader: Any, article: Any
) -> None:
    """Each comment has a Reply and a Report link (to pages that work without JavaScript);
    the forms themselves are rendered once for the page, whatever its number of comments."""
    thread = thread_for_article(article)
    comments = [
        post_comment(author=reader, thread=thread, text=f"{CLEAN} Point {n}.").comment
        for n in range(4)
    ]
    client = Client()
    client.force_login(other_reader)
    page = client.get(article.get_absolute_url()).content.decode()
    for comment in comments:
        assert f'href="/comments/{comment.pk}/reply/" class="comment__action"' in page
        assert f'href="/comments/{comment.pk}/report/" class="comment__action"' in page
    # The comment form at the top, the page's reply form and its report form.
    assert page.count("csrfmiddlewaretoken") == 3
    assert page.count('name="parent_id"') == 1 and page.count('name="rule"') == 1
    assert page.count("<template data-reply-template>") == 1
    assert page.count("<template data-report-template>") == 1
    # The same on a comment's own page (permalink, "continue this thread").
    permalink = client.get(f"/comments/{comments[0].pk}/").content.decode()
    assert permalink.count('name="parent_id"') == 1 and permalink.count('name="rule"') == 1
    # The author sees no Report link under their own comment, and an anonymous reader no form.
    mine = Client()
    mine.force_login(reader)
    own_page = mine.get(article.get_absolute_url()).content.decode()
    assert f"/comments/{comments[0].pk}/report/" not in own_page
    anonymous = Client().get(article.get_absolute_url()).content.decode()
    assert "data-reply-template" not in anonymous and "data-report-template" not in anonymous
    assert "/reply/" not in anonymous and "/report/" not in anonymous


def test_without_javascript_reply_and_report_go_through_their_pages(
    reader: Any, other_reader: Any, article: Any
) -> None:
    parent = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    client = Client()
    client.force_login(other_reader)
    reply_page = client.get(f"/comments/{parent.pk}/reply/").content.decode()
    assert f'name="parent_id" value="{parent.pk}"' in reply_page and "slow progress" in reply_page
    response = client.post(
        f"/news/{article.slug}/comments/",
        {"text": "The islands are the key to it.", "parent_id": parent.pk},
    )
    assert response.status_code == 302
    assert Comment.objects.get(parent=parent).author_id == other_reader.pk
    report_page = client.get(f"/comments/{parent.pk}/report/").content.decode()
    assert 'name="rule"' in report_page
    response = client.post(f"/comments/{parent.pk}/report/", {"rule": "off_topic"})
    assert response.status_code == 302
    assert Report.objects.get().comment_id == parent.pk


def test_the_page_forms_post_with_javascript_like_the_old_per_comment_forms(
    reader: Any, other_reader: Any, article: Any
) -> None:
    """thread.js fills in parent_id (reply) or the action (report) and posts for JSON."""
    parent = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    client = Client()
    client.force_login(other_reader)
    reply = client.post(
        f"/news/{article.slug}/comments/",
        {"text": "The islands are the key to it.", "parent_id": parent.pk, "client_token": "t1"},
        HTTP_ACCEPT="application/json",
    ).json()
    assert reply["status"] == "published"
    # The new comment's HTML carries the same Reply link as the page's comments.
    assert f'href="/comments/{reply["id"]}/reply/" class="comment__action"' in reply["html"]
    report = client.post(
        f"/comments/{parent.pk}/report/", {"rule": "off_topic"}, HTTP_ACCEPT="application/json"
    )
    assert report.status_code == 200 and report.json()["ok"] is True


@pytest.mark.parametrize("language", ["en", "fr"])
def test_time_element_says_what_the_two_date_filters_said(language: str) -> None:
    from django.template import Context, Template
    from django.utils import translation

    moment = timezone.now() - timedelta(days=3, minutes=7)
    with translation.override(language):
        old = Template(
            "<time datetime=\"{{ t|date:'c' }}\">{{ t|date:'DATETIME_FORMAT' }}</time>"
        ).render(Context({"t": moment}))
        new = Template("{% load discussion_tags %}{{ t|time_element }}").render(
            Context({"t": moment})
        )
    assert new == old


def test_each_comment_links_where_reverse_says(
    reader: Any, other_reader: Any, article: Any
) -> None:
    """The comment template builds its links from views.comments_path() rather than {% url %}."""
    from django.urls import reverse

    comment = post_comment(author=reader, thread=thread_for_article(article), text=CLEAN).comment
    client = Client()
    client.force_login(other_reader)
    for url in (article.get_absolute_url(), f"/comments/{comment.pk}/"):
        page = client.get(url).content.decode()
        for name in ("comment", "reply", "report"):
            assert f'href="{reverse(f"discussion:{name}", args=[comment.pk])}"' in page
