"""Inline SVG charts shared by the pages people read (the board pack, the data-quality page): no script, no font or
image from a network, readable when printed. Text in a chart is escaped here."""

from __future__ import annotations

import math
from collections.abc import Callable

BLUE, GREY, ORANGE, RED, LIGHT = "#1d70b8", "#505a5f", "#f47738", "#d4351c", "#dddddd"


def segments(values: list[float | None]) -> list[list[tuple[int, float]]]:
    """The runs of consecutive known values, as (index, value): a None breaks the line."""
    out: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            out.append([])
        else:
            out[-1].append((i, v))
    return [s for s in out if s]


def nice(v: float) -> float:
    """The next round number (1, 2, 2.5 or 5 times a power of ten) at or above v, for a chart's top."""
    if v <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(v))
    return next(step * magnitude for step in (1, 2, 2.5, 5, 10) if v <= step * magnitude * (1 + 1e-9))


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _count(v: float) -> str:
    return f"{v:,.0f}" if v >= 1 or v == 0 else f"{v:.2g}"


def monthly(
    labels: list[str],
    values: list[float | None],
    *,
    title: str,
    kind: str = "bar",
    top: float | None = None,
    fmt: Callable[[float], str] = _count,
    colour: str = BLUE,
    width: int = 330,
    height: int = 150,
) -> str:
    """A small chart of one figure by month: bars (``kind="bar"``) or a line with points (``"line"``). A month with
    no figure (None) draws nothing: a gap in a line, no bar. Every other month label is shown when they crowd."""
    pad_l, pad_r, pad_t, pad_b = 46, 10, 10, 26
    known = [v for v in values if v is not None]
    if top is None:
        top = nice(max(known) * 1.1) if known and max(known) > 0 else 1.0
    n = max(len(labels), 1)
    slot = (width - pad_l - pad_r) / n

    def x(i: int) -> float:
        return pad_l + slot * (i + 0.5)

    def y(v: float) -> float:
        return pad_t + (height - pad_t - pad_b) * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(title)}">'
    ]
    for k in range(3):
        v = top * k / 2
        parts.append(
            f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{LIGHT}"/>'
            f'<text x="{pad_l - 5}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10" fill="{GREY}">'
            f"{esc(fmt(v))}</text>"
        )
    every = 1 if n <= 7 else 2 if n <= 14 else 3
    for i, label in enumerate(labels):
        if (n - 1 - i) % every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - pad_b + 14}" text-anchor="middle" font-size="10" '
                f'fill="{GREY}">{esc(label)}</text>'
            )
    if kind == "bar":
        bar = min(slot * 0.7, 28)
        for i, v in enumerate(values):
            if v:
                parts.append(
                    f'<rect x="{x(i) - bar / 2:.1f}" y="{y(v):.1f}" width="{bar:.1f}" '
                    f'height="{y(0) - y(v):.1f}" fill="{colour}"/>'
                )
    else:
        for segment in segments(values):
            pts = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{pts}"/>')
            parts.extend(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for i, v in segment)
    parts.append("</svg>")
    return "".join(parts)
