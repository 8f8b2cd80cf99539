"""Engines: the ProperDocs adapter, the default engine.

ProperDocs is the continuation of MkDocs 1.x by MkDocs's own maintainers: it reads ``mkdocs.yml``, keeps
MkDocs 1.6's Python API under the package name ``properdocs`` and redirects the ``mkdocs.*`` imports of
themes, plugins and hooks to itself, so Material, mkdocstrings and our hooks file run on it unchanged. The
adapter is therefore the MkDocs one with the other package (see `coguide.engines.mkdocs`).
"""

from __future__ import annotations

from coguide.engines.mkdocs import FamilyEngine

ENGINE = FamilyEngine("properdocs", "properdocs")
