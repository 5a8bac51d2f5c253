"""E-mail domain rules: moderators refuse new accounts from a domain, or hold their comments
for review; sign-up by e-mail and by a social network, and adding an address, obey them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from civility.accounts.models import User
from civility.discussion.models import CommentStatus
from civility.discussion.services import post_comment, thread_for_article
from civility.moderation import services
from civility.moderation.models import AuditLog, EmailDomainAction, EmailDomainRule, Standing
from civility.moderation.selectors import email_domain_rule_for
from civility.moderation.services import ModerationError
from tests.accounts.helpers import PASSWORD, signed_in_client
from tests.accounts.helpers import make_user as make_account
from tests.accounts.test_signup import signup_data
from tests.accounts.test_social_login import (  # noqa: F401  (fixtures)
    FakeProviders,
    fake_provider,
    providers_configured,
    start_social_login,
)
from tests.discussion.conftest import make_user

pytestmark = pytest.mark.django_db

REFUSED = "New accounts with an e-mail address at"


def _rule(domain: str, action: str) -> EmailDomainRule:
    return services.set_email_domain_rule(domain, action=action, moderator=None)


def test_moderators_add_change_and_remove_rules(moderator_client: Client, moderator: Any) -> None:
    make_user("old@mailinator.com", name="Old account")
    response = moderator_client.post(
        "/moderation/email-domains/",
        {"domain": " @Mailinator.COM. ", "action": "refuse_signup", "note": "disposable"},
    )
    assert response.status_code == 302
    rule = EmailDomainRule.objects.get()
    assert (rule.domain, rule.action, rule.note, rule.created_by) == (
        "mailinator.com",
        EmailDomainAction.REFUSE_SIGNUP,
        "disposable",
        moderator,
    )
    page = moderator_client.get("/moderation/email-domains/").content.decode()
    assert 'data-email-domain="mailinator.com"' in page and "Refuse new accounts" in page
    assert "<td>1</td>" in page, "the page counts the accounts that exist at the domain"

    moderator_client.post(
        "/moderation/email-domains/", {"domain": "mailinator.com", "action": "premoderate"}
    )
    rule.refresh_from_db()
    assert rule.action == EmailDomainAction.PREMODERATE and EmailDomainRule.objects.count() == 1
    changed = AuditLog.objects.get(action="email_domain.changed")
    assert changed.before["action"] == "refuse_signup" and changed.after["action"] == "premoderate"

    moderator_client.post(f"/moderation/email-domains/{rule.pk}/remove/")
    assert not EmailDomainRule.objects.exists()
    again = moderator_client.post(f"/moderation/email-domains/{rule.pk}/remove/", follow=True)
    assert "removed already" in again.content.decode()
    actions = list(
        AuditLog.objects.filter(action__startswith="email_domain.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["email_domain.added", "email_domain.changed", "email_domain.removed"]
    assert all(
        entry.actor == moderator
        for entry in AuditLog.objects.filter(action__startswith="email_domain.")
    )


@pytest.mark.parametrize(
    "raw", ["", "localhost", "-bad-.example", "exa mple.com", "com", "a" * 64 + ".com"]
)
def test_a_bad_domain_gets_a_clear_error(moderator_client: Client, raw: str) -> None:
    response = moderator_client.post(
        "/moderation/email-domains/", {"domain": raw, "action": "premoderate"}, follow=True
    )
    assert "is not an e-mail domain" in response.content.decode()
    assert not EmailDomainRule.objects.exists()
    with pytest.raises(ModerationError):
        services.set_email_domain_rule("example.com", action="nonsense", moderator=None)


def test_only_moderators_of_every_site_manage_rules(reader: Any) -> None:
    from civility.sites.models import ModeratorGrant, Site

    local = make_user("local@example.org", name="Local moderator")
    ModeratorGrant.objects.create(user=local, site=Site.objects.get())
    for user in (reader, local):
        client = Client()
        client.force_login(user)
        assert client.get("/moderation/email-domains/").status_code in (302, 403)
        client.post("/moderation/email-domains/", {"domain": "x.example", "action": "premoderate"})
    assert not EmailDomainRule.objects.exists()


def test_rules_cover_subdomains_and_the_nearest_rule_wins() -> None:
    _rule("example.net", EmailDomainAction.PREMODERATE)
    _rule("spam.example.net", EmailDomainAction.REFUSE_SIGNUP)

    def action_for(email: str) -> str | None:
        rule = email_domain_rule_for(email)
        return rule.action if rule else None

    assert action_for("A@Example.NET") == EmailDomainAction.PREMODERATE
    assert action_for("a@mail.example.net") == EmailDomainAction.PREMODERATE
    assert action_for("a@x.spam.example.net") == EmailDomainAction.REFUSE_SIGNUP
    assert email_domain_rule_for("a@notexample.net") is None
    assert email_domain_rule_for("not-an-address") is None


def test_signup_from_a_refused_domain_is_refused_with_a_message() -> None:
    _rule("throwaway.example", EmailDomainAction.REFUSE_SIGNUP)
    client = Client()
    response = client.post("/accounts/signup/", signup_data(client, "troll@mail.throwaway.example"))
    assert response.status_code == 200
    assert REFUSED in response.content.decode() and "throwaway.example" in response.content.decode()
    assert not User.objects.filter(email="troll@mail.throwaway.example").exists()
    fine = client.post("/accounts/signup/", signup_data(client, "reader@example.org"))
    assert fine.status_code == 302 and User.objects.filter(email="reader@example.org").exists()


def test_adding_an_address_at_a_refused_domain_is_refused() -> None:
    user = make_account("alice@example.org")
    _rule("throwaway.example", EmailDomainAction.REFUSE_SIGNUP)
    client = signed_in_client(user, PASSWORD)
    response = client.post(
        "/accounts/email/", {"action_add": "", "email": "alice@throwaway.example"}
    )
    assert REFUSED in response.content.decode()
    assert not EmailAddress.objects.filter(email="alice@throwaway.example").exists()


@pytest.mark.usefixtures("lenient_policy")
def test_new_accounts_at_a_premoderated_domain_wait_for_review(article: Any) -> None:
    existing = make_user("before@burner.example", name="Before")
    _rule("burner.example", EmailDomainAction.PREMODERATE)
    client = Client()
    assert (
        client.post("/accounts/signup/", signup_data(client, "new@burner.example")).status_code
        == 302
    )
    newcomer = User.objects.get(email="new@burner.example")
    assert Standing.objects.get(user=newcomer).premoderated
    entry = AuditLog.objects.get(action="user.premoderation_on", subject_user=newcomer)
    assert entry.actor_label == "system" and entry.data == {"email_domain": "burner.example"}

    EmailAddress.objects.filter(user=newcomer).update(
        verified=True
    )  # followed the link in the e-mail
    thread = thread_for_article(article)
    held = post_comment(author=newcomer, thread=thread, text="A fair point about the talks.")
    assert held.comment.status == CommentStatus.PENDING
    # Accounts that existed before the rule are left alone.
    kept = post_comment(author=existing, thread=thread, text="Another fair point about the talks.")
    assert kept.comment.status == CommentStatus.PUBLISHED
    assert not Standing.objects.filter(user=existing, premoderated=True).exists()


@pytest.mark.usefixtures("providers_configured")
def test_social_signup_obeys_the_rules(request: pytest.FixtureRequest) -> None:
    install: Callable[[str], FakeProviders] = request.getfixturevalue("fake_provider")
    install("google")
    _rule("gmail.example", EmailDomainAction.REFUSE_SIGNUP)
    client = Client()
    state = start_social_login(client, "google")
    callback = client.get("/accounts/google/login/callback/", {"code": "auth-code", "state": state})
    form = callback["Location"]
    refused = client.post(form, {"email": "gina@gmail.example", "accept_standards": "on"})
    assert REFUSED in refused.content.decode()
    assert not User.objects.filter(email="gina@gmail.example").exists()

    EmailDomainRule.objects.update(action=EmailDomainAction.PREMODERATE)
    done = client.post(form, {"email": "gina@gmail.example", "accept_standards": "on"})
    assert done.status_code == 302
    assert Standing.objects.get(user__email="gina@gmail.example").premoderated
