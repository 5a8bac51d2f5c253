from __future__ import annotations

from typing import Any

from django import forms

from civility.notifications.models import NotificationSettings


class NotificationSettingsForm(forms.ModelForm):
    class Meta:
        model = NotificationSettings
        fields = [
            "push_replies",
            "push_featured",
            "push_breaking",
            "email_replies",
            "email_featured",
            "email_removals",
            "email_moderation_digest",
        ]

    def __init__(self, *args: Any, moderator: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not moderator:
            del self.fields["email_moderation_digest"]
