"""The API page covers every module of the package, so a new module cannot go undocumented."""

from __future__ import annotations

import pkgutil
import re

import coguide
from conftest import ROOT


def test_every_module_is_on_the_api_page():
    documented = set(re.findall(r"^::: (\S+)$", (ROOT / "docs" / "developers" / "api.md").read_text(), re.M))
    modules = {
        info.name
        for info in pkgutil.walk_packages(coguide.__path__, "coguide.")
        if not info.ispkg or info.name == "coguide.cite"
    }
    # The cite package documents its modules through its re-exports and `coguide.cite.apa`.
    modules -= {"coguide.cite.citations", "coguide.engines.mkdocs_hooks", "coguide.__main__"}
    assert modules - documented == set()
    assert documented - modules == set()
