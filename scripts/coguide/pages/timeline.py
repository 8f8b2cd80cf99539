"""Render (timeline): draw cases and the arrival of each label, in date order, as an SVG made at build time."""

from __future__ import annotations

import html
from dataclasses import dataclass

from coguide.model import Site

ROW = 26
TOP = 40
LEFT = 70
WIDTH = 760


@dataclass(frozen=True, kw_only=True)
class Event:
    """One point on the timeline."""

    year: int
    end_year: int | None
    title: str
    url: str
    src_uri: str
    kind: str  # "label" or "case"
    detail: str


def _short(text: str, limit: int = 48) -> str:
    """Shorten a label's era to its first clause so that it fits beside the point."""
    head = text.split(";")[0].split(":")[0].strip()
    return head if len(head) <= limit else head[: limit - 1].rsplit(" ", 1)[0] + "…"


def timeline_events(site: Site) -> list[Event]:
    """Return the labels' arrivals and the cases, oldest first (labels before cases in the same year)."""
    events = [
        Event(
            year=t.era_start,
            end_year=None,
            title=f"“{t.label}”",
            url=t.url,
            src_uri=t.src_uri,
            kind="label",
            detail=_short(t.era),
        )
        for t in site.terms.values()
    ]
    events += [
        Event(
            year=c.start_year,
            end_year=c.end_year,
            title=c.title,
            url=c.url,
            src_uri=c.src_uri,
            kind="case",
            detail=f"{c.years}, {c.country}",
        )
        for c in site.cases.values()
    ]
    return sorted(events, key=lambda e: (e.year, e.kind != "label", e.title.lower()))


def render_timeline_svg(events: list[Event], href: dict[str, str]) -> str:
    """Draw the events as an accessible SVG: one row each, year on the left, every point a link.

    Args:
        events: The events in order.
        href: The relative link for each event's URL, from the page the SVG sits on.
    """
    height = TOP + ROW * len(events) + 20
    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="group" '
        f'aria-labelledby="timeline-title">',
        '<title id="timeline-title">Timeline of the labels and cases, oldest first</title>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP - 14}" x2="{LEFT}" y2="{height - 10}" stroke="currentColor"/>',
        f'<g transform="translate({LEFT + 20},16)">'
        '<circle cx="0" cy="0" r="6" fill="#3f51b5"/><text x="12" y="4">label comes into use</text>'
        '<rect x="170" y="-6" width="12" height="12" fill="#e65100"/><text x="190" y="4">case</text></g>',
    ]
    previous_year = None
    for i, event in enumerate(events):
        y = TOP + ROW * i + ROW // 2
        if event.year != previous_year:
            parts.append(f'<text x="{LEFT - 10}" y="{y + 4}" text-anchor="end">{event.year}</text>')
            previous_year = event.year
        marker = (
            f'<circle cx="{LEFT}" cy="{y}" r="6" fill="#3f51b5"/>'
            if event.kind == "label"
            else f'<rect x="{LEFT - 6}" y="{y - 6}" width="12" height="12" fill="#e65100"/>'
        )
        label = f"{event.title} ({event.detail})"
        parts.append(
            f'<a href="{esc(href[event.url])}" aria-label="{esc(label)}"><title>{esc(label)}</title>{marker}'
            f'<text x="{LEFT + 16}" y="{y + 4}">{esc(event.title)}'
            f'<tspan dx="8" opacity="0.7">{esc(event.detail)}</tspan></text></a>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
