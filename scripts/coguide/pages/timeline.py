"""Render (timeline): the arrival of each label and every case, drawn to scale as an SVG made at build time.

The chart is a vertical axis of years, to scale, with the labels on its left and the cases on its right.
Names that would overlap are moved down and joined to their point by a leader line, so every point stays
at its true year. Each point links to its entry in the list below the chart, which gives the full note
and its sources.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from coguide.model import Case, Site, Term

#: Pixels per year on the axis.
SCALE = 12
#: The smallest gap between two names on the same side.
LINE = 16
TOP = 40
WIDTH = 440
AXIS = 190
#: The most characters of a name drawn beside its point (the list gives it in full).
NAME_CHARS = {"label": 19, "case": 30}


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
    record: Term | Case | None = None

    @property
    def anchor(self) -> str:
        """Return the id of the event's entry in the list under the chart."""
        record_id = self.record.id if self.record is not None else self.url.strip("/").rsplit("/", 1)[-1]
        return f"{self.kind}-{record_id}"

    @property
    def years(self) -> str:
        """Return the years as text: ``2004`` or ``2007–2010``."""
        if self.end_year and self.end_year != self.year:
            return f"{self.year}–{self.end_year}"
        return str(self.year)


def _short(text: str, limit: int = 48) -> str:
    """Shorten a text to its first clause, cut at a word with an ellipsis when it is still too long."""
    head = text.split(";")[0].split(":")[0].strip()
    return head if len(head) <= limit else head[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,") + "…"


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
            record=t,
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
            record=c,
        )
        for c in site.cases.values()
    ]
    return sorted(events, key=lambda e: (e.year, e.kind != "label", e.title.lower()))


def _spread(wanted: list[float], gap: float) -> list[float]:
    """Return positions as close as possible to `wanted` (ascending) with at least `gap` between them."""
    placed: list[float] = []
    for y in wanted:
        placed.append(max(y, placed[-1] + gap) if placed else y)
    return placed


def render_timeline_svg(events: list[Event], href: dict[str, str] | None = None) -> str:
    """Draw the events to scale: a vertical axis of years, labels on the left, cases on the right.

    Args:
        events: The events in order.
        href: The link for each event's URL; by default each point links to its entry in the list below.
    """
    esc = html.escape
    if not events:
        return ""
    first = min(e.year for e in events) // 10 * 10
    last = max(e.end_year or e.year for e in events) // 10 * 10 + 10

    def at(year: int) -> float:
        return TOP + (year - first) * SCALE

    sides = {kind: [e for e in events if e.kind == kind] for kind in ("label", "case")}
    text_y = {kind: _spread([at(e.year) for e in side], LINE) for kind, side in sides.items()}
    bottom = max([at(last), *(ys[-1] for ys in text_y.values() if ys)]) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {bottom:.0f}" width="{WIDTH}" '
        'role="group" aria-labelledby="timeline-title timeline-desc" class="timeline-svg">',
        '<title id="timeline-title">Timeline of the labels and cases, to scale</title>',
        f'<desc id="timeline-desc">A vertical axis of years from {first} to {last}, {SCALE} units a year. '
        "Labels (circles) are named on the left, cases (squares) on the right; each point links to its "
        "entry in the list below the chart.</desc>",
        f'<text class="tl-head" x="{AXIS - 14}" y="16" text-anchor="end">Labels come into use</text>',
        f'<text class="tl-head" x="{AXIS + 14}" y="16">Cases</text>',
        f'<line class="axis" x1="{AXIS}" y1="{at(first):.0f}" x2="{AXIS}" y2="{at(last):.0f}"/>',
    ]
    for decade in range(first, last + 1, 10):
        y = at(decade)
        parts.append(f'<line class="tick" x1="36" y1="{y:.0f}" x2="{AXIS + 4}" y2="{y:.0f}"/>')
        parts.append(f'<text class="tl-year" x="2" y="{y + 4:.0f}">{decade}</text>')
    for kind, side in sides.items():
        left = kind == "label"
        for event, ty in zip(side, text_y[kind], strict=True):
            y = at(event.year)
            point = AXIS - 8 if left else AXIS + 8
            text_x = AXIS - 28 if left else AXIS + 28
            if event.end_year and event.end_year != event.year:
                span = f'<line class="tl-span" x1="{point}" y1="{y:.0f}" x2="{point}" y2="{at(event.end_year):.0f}"/>'
            else:
                span = ""
            marker = (
                f'<circle class="tl-label" cx="{point}" cy="{y:.0f}" r="5"/>'
                if left
                else f'<rect class="tl-case" x="{point - 5}" y="{y - 5:.0f}" width="10" height="10"/>'
            )
            lead_from = point - 6 if left else point + 6
            lead_to = text_x + 3 if left else text_x - 3
            leader = f'<line class="tl-leader" x1="{lead_from}" y1="{y:.0f}" x2="{lead_to}" y2="{ty:.0f}"/>'
            name = _short(event.title.strip("“”") if left else event.title, NAME_CHARS[kind])
            label = f"{event.years}: {event.title} ({event.detail})"
            target = href[event.url] if href else f"#{event.anchor}"
            parts.append(
                f'<a href="{esc(target)}" aria-label="{esc(label)}"><title>{esc(label)}</title>{span}{marker}{leader}'
                f'<text class="tl-name" x="{text_x}" y="{ty + 4:.0f}" text-anchor="{"end" if left else "start"}">'
                f"{esc(name)}</text></a>"
            )
    parts.append("</svg>")
    return "\n".join(parts)
