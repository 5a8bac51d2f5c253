"""Moderators' routes. Every view is wrapped by ``moderator_required``: anonymous users go to
the login page, readers get 403 (tests/moderation/test_permissions.py enumerates them)."""

from django.urls import path

from civility.moderation import views

app_name = "moderation"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("queue/<str:name>/", views.queue_view, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("comments/<int:pk>/", views.comment_detail, name="comment"),
    path("comments/<int:pk>/approve/", views.approve, name="approve"),
    path("comments/<int:pk>/reject/", views.reject, name="reject"),
    path("comments/<int:pk>/edit/", views.edit, name="edit"),
    path("comments/<int:pk>/feature/", views.feature, name="feature"),
    path("users/<int:pk>/", views.user_detail, name="user"),
    path("users/<int:pk>/block/", views.block, name="block"),
    path("users/<int:pk>/restore/", views.restore, name="restore"),
    path("users/<int:pk>/suspend/", views.suspend, name="suspend"),
    path("users/<int:pk>/notes/", views.add_note, name="add_note"),
    path("notes/<int:pk>/delete/", views.delete_note, name="delete_note"),
    path("users/<int:pk>/premoderation/", views.premoderation, name="premoderation"),
    path("users/<int:pk>/delete/", views.delete_account, name="delete_account"),
    path("reviews/", views.reviews, name="reviews"),
    path("reviews/<int:pk>/decide/", views.decide_review, name="decide_review"),
    path("appeals/", views.appeals, name="appeals"),
    path("appeals/<int:pk>/decide/", views.decide_appeal, name="decide_appeal"),
    path("messages/", views.contact_messages, name="messages"),
    path("messages/<int:pk>/handled/", views.message_handled, name="message_handled"),
    path("email-domains/", views.email_domains, name="email_domains"),
    path("email-domains/<int:pk>/remove/", views.remove_email_domain, name="remove_email_domain"),
    path("policy/", views.policy, name="policy"),
    path("threads/", views.threads, name="threads"),
    path("threads/<int:pk>/", views.thread_update, name="thread_update"),
    path("articles/<str:slug>/settings/", views.article_settings, name="article_settings"),
    path("audit/", views.audit, name="audit"),
]
