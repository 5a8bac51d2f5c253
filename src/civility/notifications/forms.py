from __future__ import annotations

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
        ]
