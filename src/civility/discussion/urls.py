from django.urls import include, path

from civility.discussion import embed, feeds, views
from civility.discussion.api import api

app_name = "discussion"
urlpatterns = [
    path("api/", api.urls),
    path("news/<str:slug>/comments/", views.post_comment, name="post"),
    path("news/<str:slug>/discussion/", views.thread_section, name="section"),
    path("news/<str:slug>/discussion/latest", views.thread_latest, name="section_latest"),
    path("news/<str:slug>/comments/feed/", feeds.ArticleCommentsFeed(), name="comments_feed"),
    path("comments/<int:pk>/", views.comment_thread, name="comment"),
    path("comments/<int:pk>/reply/", views.reply_form, name="reply"),
    path("comments/<int:pk>/edit/", views.edit_comment, name="edit"),
    path("comments/<int:pk>/delete/", views.delete_comment, name="delete"),
    path("comments/<int:pk>/report/", views.report_comment, name="report"),
    path("comments/<int:pk>/recommend/", views.recommend_comment, name="recommend"),
    path("comments/<int:pk>/ignore-author/", views.ignore_author, name="ignore_author"),
    path("most-discussed/", views.most_discussed, name="most_discussed"),
    path("my/comments/", views.my_comments, name="my_comments"),
    path("my/replies/", views.my_replies, name="my_replies"),
    path("my/api-tokens/", views.api_tokens, name="api_tokens"),
    path("my/ignored/", views.ignored_authors, name="ignored_authors"),
    path("my/ignored/<int:user_id>/remove/", views.unignore_author, name="unignore_author"),
    path("embed.js", embed.embed_js, name="embed_js"),
    path("embed/thread", embed.embed_thread, name="embed_thread"),
    path("embed/count.js", embed.count_js, name="count_js"),
    path("embed/counts", embed.embed_counts, name="embed_counts"),
    path("embed/thread/<int:pk>/post", embed.embed_post, name="embed_post"),
    path("embed/comments/<int:pk>/recommend", embed.embed_recommend, name="embed_recommend"),
    # Public pages of the moderation app (sanctions, appeals, contact): not under /moderation/,
    # which is moderators-only.
    path("", include("civility.moderation.public_urls")),
]
