"""The admin's user form applies the display-name rules of the reader's settings form."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.forms import ModelForm
from django.test import RequestFactory

from civility.accounts.models import User

pytestmark = pytest.mark.django_db


def _form(user: User, **changes: Any) -> ModelForm[User]:
    """The form the admin's change page builds for ``user``, bound to ``changes``."""
    request = RequestFactory().get("/admin/")
    request.user = User.objects.create_superuser(
        username="root@example.org", email="root@example.org", password="S3cure-pass!"
    )
    form_class = admin.site.get_model_admin(User).get_form(request, user, change=True)
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "is_active": "on",
        "date_joined_0": "2026-11-01",
        "date_joined_1": "10:00:00",
        "language": "en",
        "display_name": "",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return form_class(data=data, instance=user)


def _user(email: str, *, staff: bool = False) -> User:
    return User.objects.create_user(
        username=email, email=email, password="S3cure-pass!", is_staff=staff
    )


def test_a_mixed_script_name_is_refused_in_the_admin() -> None:
    form = _form(_user("reader@example.org"), display_name="p\u0430ypal")
    assert not form.is_valid()
    assert form.errors.as_data()["display_name"][0].code == "mixed_script"


def test_a_reader_cannot_be_named_as_staff_in_the_admin() -> None:
    form = _form(_user("reader@example.org"), display_name="M0derat0r")
    assert not form.is_valid()
    assert form.errors.as_data()["display_name"][0].code == "reserved"


def test_a_staff_account_may_carry_a_role_word() -> None:
    form = _form(_user("desk@example.org", staff=True), display_name="Moderator Team")
    assert form.is_valid(), form.errors


def test_an_ordinary_name_passes() -> None:
    form = _form(_user("reader@example.org"), display_name="Ada Lovelace")
    assert form.is_valid(), form.errors
