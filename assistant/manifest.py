"""`manifest.json`: every model directory describes itself (kind, version, config, metrics)."""

from __future__ import annotations

import json
import platform
from pathlib import Path

from assistant.errors import ModelError

FORMAT_VERSION = 1


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a model's behaviour."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in (
        "torch",
        "transformers",
        "sentence-transformers",
        "faiss-cpu",
        "offline-assistant",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def write_manifest(out_dir: str | Path, kind: str, **fields) -> dict:
    """Write `manifest.json` atomically; returns the dict written."""
    data = {"kind": kind, "format_version": FORMAT_VERSION, **fields}
    path = Path(out_dir) / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str))
    tmp.replace(path)
    return data


def read_manifest(model_dir: str | Path, kind: str) -> dict:
    """Read and check `manifest.json` of a model directory of the given kind."""
    path = Path(model_dir) / "manifest.json"
    if not Path(model_dir).is_dir():
        raise ModelError(
            f"{model_dir}: no such model directory. Train one first (see `assistant train --help`)."
        )
    if not path.is_file():
        raise ModelError(f"{path}: missing. {model_dir} is not a trained {kind} model directory.")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: corrupted manifest ({exc}). Retrain the model.") from None
    if data.get("kind") != kind:
        raise ModelError(
            f"{path}: this is a {data.get('kind')!r} model, expected {kind!r}. "
            "Check the --model path."
        )
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise ModelError(
            f"{path}: format version {data.get('format_version')} is newer than this program "
            f"understands ({FORMAT_VERSION}). Upgrade offline-assistant."
        )
    return data
