"""Moderator notes about a user: kept for the other moderators, shown on the user page and
counted on queue cards, audited without their words, erased by a purge."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civility.discussion.services import post_comment, thread_for_article
from civility.moderation import services
from civility.moderation.models import AuditLog, ModeratorNote
from civility.moderation.services import ModerationError
from tests.discussion.conftest import make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("lenient_policy")]

NOTE = "Warned by e-mail on 3 November about personal attacks; next time a suspension."


def test_moderators_keep_notes_about_a_user(
    moderator_client: Client, moderator: Any, reader: Any, article: Any
) -> None:
    response = moderator_client.post(f"/moderation/users/{reader.pk}/notes/", {"text": NOTE})
    assert response.status_code == 302 and response["Location"].endswith("#notes")
    note = ModeratorNote.objects.get()
    assert (note.user, note.created_by, note.text) == (reader, moderator, NOTE)
    page = moderator_client.get(f"/moderation/users/{reader.pk}/").content.decode()
    assert "next time a suspension" in page and f'data-note="{note.pk}"' in page

    entry = AuditLog.objects.get(action="user.note_added")
    assert entry.actor == moderator and entry.subject_user == reader
    assert NOTE not in str(entry.data), "the audit row names the note, not its words"

    post_comment(
        author=reader, thread=thread_for_article(article), text=NOTE.replace("Warned", "I was")
    )
    card = moderator_client.get("/moderation/queue/all/").content.decode()
    assert "1 moderator note" in card

    reader_client = Client()
    reader_client.force_login(reader)
    assert reader_client.get(f"/moderation/users/{reader.pk}/").status_code in (302, 403)
    assert "Warned by e-mail" not in reader_client.get(f"/news/{article.slug}/").content.decode()


def test_only_its_author_or_staff_delete_a_note(moderator: Any, reader: Any) -> None:
    other = make_user("otto@example.org", name="Otto", moderator=True)
    note = services.add_user_note(reader, moderator=moderator, text=NOTE)
    with pytest.raises(ModerationError):
        services.delete_user_note(note, moderator=other)
    services.delete_user_note(note, moderator=moderator)
    assert not ModeratorNote.objects.exists()
    assert AuditLog.objects.filter(action="user.note_deleted").count() == 1


@pytest.mark.parametrize("text", ["", "   ", "x" * (ModeratorNote.MAX_LENGTH + 1)])
def test_empty_or_overlong_notes_are_refused(
    moderator_client: Client, reader: Any, text: str
) -> None:
    response = moderator_client.post(f"/moderation/users/{reader.pk}/notes/", {"text": text})
    page = moderator_client.get(response["Location"]).content.decode()
    assert "The note is empty." in page or "A note has at most 2000 characters." in page
    assert not ModeratorNote.objects.exists()


def test_the_user_sees_notes_in_their_export_and_a_purge_erases_them(
    moderator: Any, reader: Any
) -> None:
    from civility.accounts.services import delete_account, export_user_data, purge_account

    services.add_user_note(reader, moderator=moderator, text=NOTE)
    exported = export_user_data(reader)["moderation.moderatornote"]
    assert [row["text"] for row in exported] == [NOTE]
    assert "moderation.moderatornote" not in export_user_data(moderator)
    delete_account(reader)
    purge_account(reader)
    assert not ModeratorNote.objects.exists()
