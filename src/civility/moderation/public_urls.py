"""Public pages of the moderation app, mounted at the site root by discussion/urls.py (the
/moderation/ prefix is for moderators only)."""

from django.urls import path

from civility.moderation import public_views

urlpatterns = [
    path("blocked/", public_views.blocked, name="blocked"),
    path("unlock/", public_views.unlock_request, name="unlock"),
    path("contact/", public_views.contact, name="contact"),
    path("my/comments/<int:pk>/review/", public_views.request_review, name="request_review"),
]
