"""Export: the open-data files the site publishes beside its pages (the data package, SKOS, RIS)."""

from __future__ import annotations

from coguide.load import Sources
from coguide.model import Site
from coguide.render import Page


def render_exports(site: Site, sources: Sources) -> list[Page]:
    """Return the data files to publish under ``/data/``."""
    return []
