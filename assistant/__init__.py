"""Offline-first customer-service assistant (runtime package).

The runtime never imports `training/`; `kb/` is imported for retrieval.
"""

from __future__ import annotations

__version__ = "0.1.0"
