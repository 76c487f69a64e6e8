"""Where the runtime keeps the user's data. Model directories (the bundled base model, a
given one) are resolved by `kb.paths`, shared with the knowledge base and training."""

from __future__ import annotations

import os
from pathlib import Path


def user_home() -> Path:
    """The user data directory: $ASSISTANT_HOME, else the platform convention (XDG on Linux)."""
    env = os.environ.get("ASSISTANT_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("offline-assistant", appauthor=False))
