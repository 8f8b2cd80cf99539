"""coguide: the generator behind the open-access guide to co-production and service-user labels."""

from __future__ import annotations

__version__ = "0.1.0"
