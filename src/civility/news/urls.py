from django.urls import path

from civility.news import feeds, views

app_name = "news"
urlpatterns = [
    path("", views.front_page, name="front"),
    path("news/<str:slug>/", views.article_page, name="article"),
    path("news/<str:slug>/share", views.record_share, name="share"),
    path("tags/<str:slug>/", views.tag_page, name="tag"),
    path("recommended/", views.recommended_page, name="recommended"),
    path("s/<str:code>", views.short_link, name="short"),
    path("search", views.search_page, name="search"),
    path("feed/", feeds.LatestArticlesFeed(), name="feed"),
]
