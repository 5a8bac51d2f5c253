"""Small server-rendered SVG charts for the dashboard (no JavaScript, no CDN)."""

from __future__ import annotations

import math
from html import escape

from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#0b57a4", "#b3261e", "#2e7d32", "#f4b400")


def bar_chart(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float]]],
    *,
    width: int = 640,
    height: int = 240,
    stacked: bool = True,
) -> SafeString:
    """Vertical bars, one group per label; several series stack (with a legend)."""
    left, right, top, bottom = 40, 10, 28, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))] if labels else []
    peak = max([*totals, 1.0]) if stacked else max([1.0, *(v for _, vs in series for v in vs)])
    # An even whole number, so the three gridlines (0, half, top) are whole numbers too.
    peak = float(max(2, math.ceil(peak) + math.ceil(peak) % 2))
    step = plot_w / max(1, len(labels))
    bar_w = max(2.0, step * 0.7)
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{escape(title)}</text>',
    ]
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dde1e6"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{peak * fraction:g}</text>'
        )
    label_every = max(1, len(labels) // 10)
    for i, label in enumerate(labels):
        x = left + i * step + (step - bar_w) / 2
        base = float(top + plot_h)
        for s, (name, values) in enumerate(series):
            value = values[i]
            h = plot_h * value / peak
            color = PALETTE[s % len(PALETTE)]
            series_w = bar_w if stacked else bar_w / len(series)
            left_edge = x if stacked else x + s * series_w
            parts.append(
                f'<rect x="{left_edge:.1f}" y="{base - h:.1f}" width="{series_w:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{escape(label)} · {escape(name)}: {value:g}</title></rect>"
            )
            if stacked:
                base -= h
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14}" font-size="10" text-anchor="middle">'
                f"{escape(label[:14])}</text>"
            )
    if len(series) > 1:
        for s, (name, _) in enumerate(series):
            x = left + s * 150
            parts.append(
                f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{PALETTE[s % len(PALETTE)]}"/>'
            )
            parts.append(
                f'<text x="{x + 14}" y="{height - 5}" font-size="11">{escape(name)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every label above is escaped
