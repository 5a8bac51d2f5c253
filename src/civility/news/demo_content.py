"""Demo content: the articles in demo/articles.jsonl, generated pictures, and two accounts.

Loading is idempotent: articles already present (by source URL) and accounts that exist are
left alone. The passwords below are for the demo only and are printed by ``civility serve``.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

from django.core.files.base import ContentFile
from django.utils import timezone

from civility.news.importer import ArticleRecord, import_records, parse_json_lines
from civility.news.models import Article


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    display_name: str
    moderator: bool
    staff: bool


# Demo-only credentials: they exist so a newcomer can sign in right after `make run`.
DEMO_MODERATOR = DemoAccount(
    "moderator@example.org", "demo-moderator-2026", "Demo Moderator", True, True
)
DEMO_READER = DemoAccount("reader@example.org", "demo-reader-2026", "Demo Reader", False, False)
DEMO_ACCOUNTS = (DEMO_MODERATOR, DEMO_READER)

# One colour pair per first tag, so pictures of a topic look alike.
PALETTES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "diplomacy": ((24, 54, 96), (120, 160, 200)),
    "climate": ((16, 92, 110), (150, 210, 200)),
    "economy": ((70, 50, 110), (200, 170, 120)),
    "science": ((12, 16, 48), (90, 70, 160)),
    "sport": ((20, 110, 60), (210, 220, 120)),
    "culture": ((120, 30, 50), (230, 180, 120)),
    "city": ((60, 70, 80), (230, 150, 90)),
    "health": ((30, 120, 130), (220, 240, 235)),
    "technology": ((30, 30, 40), (40, 170, 220)),
    "energy": ((200, 120, 20), (250, 225, 120)),
    "education": ((40, 80, 140), (240, 200, 90)),
    "transport": ((30, 60, 90), (120, 200, 150)),
}
IMAGE_SIZE = (1200, 675)


def demo_records() -> list[ArticleRecord]:
    text = (
        resources.files("civility.news").joinpath("demo/articles.jsonl").read_text(encoding="utf-8")
    )
    return parse_json_lines(text)


def _shifted(records: list[ArticleRecord]) -> list[ArticleRecord]:
    """Move the fixed demo dates so the newest article is an hour old, keeping the gaps."""
    dated = [record.published_at for record in records if record.published_at]
    if not dated:
        return records
    shift = timezone.now() - timedelta(hours=1) - max(dated)
    for record in records:
        if record.published_at:
            record.published_at += shift
    return records


def demo_picture(seed: str, palette_key: str) -> bytes:
    """A JPEG of soft shapes over a gradient: placeholder art with no licence to worry about."""
    from PIL import Image, ImageDraw, ImageFilter

    dark, light = PALETTES.get(palette_key, PALETTES["city"])
    digest = hashlib.sha256(seed.encode()).digest()
    width, height = IMAGE_SIZE
    gradient = Image.linear_gradient("L").resize(IMAGE_SIZE)
    if digest[0] % 2:
        gradient = gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    picture = Image.composite(
        Image.new("RGB", IMAGE_SIZE, light), Image.new("RGB", IMAGE_SIZE, dark), gradient
    )
    shapes = Image.new("RGBA", IMAGE_SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    for index in range(6):
        x = digest[1 + index * 3] / 255 * width
        y = digest[2 + index * 3] / 255 * height
        radius = 60 + digest[3 + index * 3] / 255 * 220
        colour = light if index % 2 else dark
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*colour, 90))
    picture = Image.alpha_composite(
        picture.convert("RGBA"), shapes.filter(ImageFilter.GaussianBlur(24))
    )
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=82, optimize=True)
    return buffer.getvalue()


def load_demo_accounts() -> list[tuple[DemoAccount, bool]]:
    """Create the demo accounts that are missing; returns (account, created) pairs."""
    from django.contrib.auth import get_user_model

    from civility.accounts.commands.createuser import create_user

    user_model = get_user_model()
    outcome = []
    for account in DEMO_ACCOUNTS:
        exists = user_model.objects.filter(email__iexact=account.email).exists()
        if not exists:
            create_user(
                account.email,
                account.password,
                moderator=account.moderator,
                staff=account.staff,
                display_name=account.display_name,
            )
        outcome.append((account, not exists))
    return outcome


# The demo's editors recommend these (the Recommended listing).
DEMO_RECOMMENDED = frozenset(
    {
        "neighbours-agree-to-resume-peace-treaty-talks",
        "wind-and-solar-overtake-coal",
        "open-source-tool-helps-newsrooms-check-facts",
        "schools-add-lesson-on-spotting-misinformation",
    }
)


def load_demo_articles() -> int:
    """Import the demo articles that are not there yet, with pictures. Returns how many were added."""
    records = demo_records()
    present = set(
        Article.objects.filter(source_id__in=[record.source_id for record in records]).values_list(
            "source_id", flat=True
        )
    )
    missing = _shifted([record for record in records if record.source_id not in present])
    if not missing:
        return 0
    result = import_records(missing)
    tag_order = {
        record.source_id: record.tags[0].lower() if record.tags else "city" for record in missing
    }
    for article in result.articles:
        palette = tag_order.get(article.source_id or "", "city")
        article.image.save(
            f"demo-{article.slug}.jpg", ContentFile(demo_picture(article.slug, palette)), save=False
        )
        Article.objects.filter(pk=article.pk).update(
            image=article.image.name,
            image_alt="",
            recommended=article.slug in DEMO_RECOMMENDED,
        )
    return result.created


def load_demo() -> tuple[int, list[tuple[DemoAccount, bool]]]:
    return load_demo_articles(), load_demo_accounts()
