"""State changes of the news app."""

from __future__ import annotations

from django.db.models import F

from civility.news.models import Article


def record_share(article: Article) -> int:
    """Add one share to ``article`` atomically and return the new count.

    Share counts are public tallies, not state anyone acts on, so no audit row is written.
    """
    Article.objects.filter(pk=article.pk).update(share_count=F("share_count") + 1)
    article.refresh_from_db(fields=["share_count"])
    return article.share_count
