from typing import Any

from django.apps import AppConfig


def _new_account_signed_up(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from civility.moderation.services import premoderate_new_account_by_domain

    premoderate_new_account_by_domain(user)


class ModerationConfig(AppConfig):
    name = "civility.moderation"
    label = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up

        # Both e-mail and social sign-up send it, once per new account.
        user_signed_up.connect(_new_account_signed_up, dispatch_uid="civility-email-domain-rules")
