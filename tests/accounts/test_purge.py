"""After 30 days a deleted account is purged: nothing of it survives in a database dump."""

from __future__ import annotations

import argparse
import datetime
import io
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from civility.accounts import services
from civility.accounts.commands import purge_deleted
from civility.accounts.models import User
from civility.discussion.models import Comment
from civility.moderation.audit import record
from civility.notifications.models import PushSubscription
from tests.accounts.helpers import make_user
from tests.accounts.helpers_discussion import published_comment

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "zelda.quartz@example.org"
NAME = "Zelda Quartzfield"
FIRST, LAST = "Zeldarine", "Quartzmoor"
COMMENT_TEXT = "Xylophones are underrated by the municipal quartz committee"
REPLY_TEXT = "I disagree with the xylophone point entirely"


def whole_database_dump() -> str:
    """Every fixture Django can dump, plus every row of every table read raw."""
    fixtures = io.StringIO()
    call_command("dumpdata", format="json", stdout=fixtures)
    raw: list[str] = [fixtures.getvalue()]
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor, include_views=False):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            raw.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(raw)


def zelda_with_history() -> tuple[User, Comment, Comment]:
    zelda = make_user(EMAIL, display_name=NAME)
    zelda.first_name, zelda.last_name = FIRST, LAST
    zelda.signup_ip = zelda.last_login_ip = "198.51.100.23"
    zelda.save()
    services.accept_standards(zelda)
    comment = published_comment(zelda, COMMENT_TEXT)
    reply = published_comment(
        make_user("yann@example.org"), REPLY_TEXT, parent=comment, ip_address="192.0.2.5"
    )
    record(
        "comment.edit",
        comment,
        actor=zelda,
        subject_user=zelda,
        before={"text": COMMENT_TEXT, "by": NAME},
    )
    app = SocialApp.objects.create(provider="google", name="Google", client_id="cid", secret="sec")
    account = SocialAccount.objects.create(
        user=zelda, provider="google", uid="1234567", extra_data={"email": EMAIL, "name": NAME}
    )
    SocialToken.objects.create(app=app, account=account, token="ya29.secret-token-value")
    PushSubscription.objects.create(
        user=zelda,
        endpoint="https://push.example.net/send/zelda-endpoint",
        p256dh="p" * 20,
        auth="a" * 8,
    )
    return zelda, comment, reply


def test_purge_after_30_days_leaves_no_trace_in_a_database_dump() -> None:
    zelda, comment, reply = zelda_with_history()
    services.delete_account(zelda)
    assert EMAIL in whole_database_dump(), (
        "the dump is sensitive enough to find her before the purge"
    )

    # Not due yet: nothing happens.
    assert services.purge_deleted_accounts() == []
    User.objects.filter(pk=zelda.pk).update(deleted_at=timezone.now() - datetime.timedelta(days=31))
    out = io.StringIO()
    call_command("purge_deleted", stdout=out)
    assert "purged 1 deleted account(s)" in out.getvalue()

    dump = whole_database_dump()
    for secret in (
        EMAIL,
        NAME,
        FIRST,
        LAST,
        COMMENT_TEXT,
        "zelda.quartz",
        "198.51.100.23",
        "203.0.113.77",
        "ya29.secret-token-value",
        "zelda-endpoint",
        "1234567",
    ):
        assert secret not in dump, f"{secret!r} survived the purge"

    zelda.refresh_from_db()
    assert zelda.purged_at is not None and not zelda.has_usable_password()
    assert not EmailAddress.objects.filter(user=zelda).exists()
    assert not SocialAccount.objects.filter(user=zelda).exists()
    assert not PushSubscription.objects.filter(user=zelda).exists()
    # The thread keeps its shape: the comment is a tombstone and the reply is intact.
    comment.refresh_from_db()
    reply.refresh_from_db()
    assert comment.purged and comment.text == ""
    assert reply.parent_id == comment.pk and reply.text == REPLY_TEXT
    assert REPLY_TEXT in dump
    # A purged account cannot come back.
    with pytest.raises(services.AccountStateError):
        services.restore_account(zelda)


def test_purge_cli_module_and_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    zelda, _comment, _reply = zelda_with_history()
    services.delete_account(zelda)
    User.objects.filter(pk=zelda.pk).update(
        deleted_at=timezone.now() - datetime.timedelta(days=30, minutes=1)
    )
    assert purge_deleted.run(argparse.Namespace(dry_run=True)) == 0
    assert "1 deleted account(s) are due" in capsys.readouterr().out
    assert User.objects.get(pk=zelda.pk).purged_at is None
    assert purge_deleted.run(argparse.Namespace(dry_run=False)) == 0
    assert "purged 1" in capsys.readouterr().out
    assert User.objects.get(pk=zelda.pk).purged_at is not None


def test_purge_task_runs_as_a_plain_function() -> None:
    from civility.accounts.tasks import purge_deleted_accounts_task

    victim = make_user("old@example.org")
    services.delete_account(victim)
    User.objects.filter(pk=victim.pk).update(
        deleted_at=timezone.now() - datetime.timedelta(days=40)
    )
    result: Any = purge_deleted_accounts_task.apply().get()
    assert result == [victim.pk]
