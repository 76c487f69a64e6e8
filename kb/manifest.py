"""`manifest.json`: every artifact directory (intent model, ranker model with its response
bank, knowledge-base index) describes itself in one format.

Every manifest holds at least:

    kind              what the directory is: "intent", "ranker", "kb-index" (see `KINDS`)
    format_version    the version of this format (`FORMAT_VERSION`), one scheme for every kind
    library_versions  versions of the libraries that wrote it (`library_versions()`)

and the kind's own fields (config, label map, metrics, data fingerprint, artifacts...).
`write_manifest` writes one atomically; `read_manifest` reads one, checks its kind, format
version and required fields, and says how to fix a mismatch (retrain, rebuild or upgrade).

Format history:
    1  models wrote their library versions as `libraries`, indexes as `library_versions`
    2  `library_versions` everywhere (version 1 manifests still load: `libraries` is renamed)
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kb.errors import AssistantError, KBIndexError, ModelError

FORMAT_VERSION = 2
OLDEST_FORMAT_VERSION = 1  # manifests from this version on still load
MANIFEST_FILE = "manifest.json"
LIBRARIES = (
    "numpy",
    "torch",
    "transformers",
    "sentence-transformers",
    "tokenizers",
    "onnxruntime",
    "faiss-cpu",
    "offline-assistant",
)


@dataclass(frozen=True)
class Kind:
    """What `read_manifest` needs to know about one kind of artifact."""

    name: str  # how messages call it, e.g. "intent model"
    fix: str  # how to make a new one; "{dir}" is replaced by the directory
    error: type[AssistantError]  # raised when the directory is unusable
    required: tuple[str, ...] = ()  # fields a usable manifest must have

    @property
    def noun(self) -> str:
        """The last word of the name: "model", "index"."""
        return self.name.split()[-1]


KINDS: dict[str, Kind] = {
    "intent": Kind(
        "intent model",
        "retrain it with `assistant train intent --data DATA --out {dir}`",
        ModelError,
        ("labels",),
    ),
    "ranker": Kind(
        "ranker model",
        "retrain it with `assistant train ranker --data DATA --out {dir}`",
        ModelError,
    ),
    "kb-index": Kind(
        "knowledge-base index",
        "rebuild it with `assistant kb build --docs DOCS --out {dir}`",
        KBIndexError,
        ("artifacts", "model", "count", "dimension", "index", "files"),
    ),
}


def library_versions() -> dict[str, str]:
    """Versions of Python and of the installed libraries that shape an artifact (`LIBRARIES`;
    those not installed are left out)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON to a temporary file in the same folder, then rename it over `path`: a reader
    sees the old file or the new one, never a half-written one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False, default=str)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_manifest(out_dir: str | os.PathLike, kind: str, **fields) -> dict:
    """Write `out_dir/manifest.json` atomically: kind, format version, the current library
    versions (unless `fields` gives them) and `fields`; returns the dict written."""
    if kind not in KINDS:
        raise ValueError(f"unknown artifact kind {kind!r}; known: {', '.join(KINDS)}")
    data = {"kind": kind, "format_version": FORMAT_VERSION, **fields}
    data.setdefault("library_versions", library_versions())
    write_json_atomic(Path(out_dir) / MANIFEST_FILE, data)
    return data


def read_manifest(directory: str | os.PathLike, kind: str) -> dict:
    """The manifest of an artifact directory of `kind`, checked.

    Raises the kind's error (ModelError for models, KBIndexError for an index) naming the
    file, when the directory or its manifest is missing or corrupted, is of another kind, has
    a format version this program does not read, or lacks a required field; the message says
    how to fix it. A version 1 manifest's `libraries` is returned as `library_versions`.
    """
    spec = KINDS[kind]
    directory = Path(directory)
    path = directory / MANIFEST_FILE
    fix = spec.fix.format(dir=directory)
    if not directory.is_dir():
        raise spec.error(
            f"{directory}: no such {spec.noun} directory (it does not exist). Make the "
            f"{spec.name}: {fix}."
        )
    if not path.is_file():
        raise spec.error(f"{path} is missing: {directory} is not a {spec.name}: {fix}.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise spec.error(f"{path} is corrupted ({exc}): {fix}.") from None
    if not isinstance(data, dict):
        raise spec.error(f"{path} is corrupted (not a JSON object): {fix}.")
    found = data.get("kind")
    if found != kind:
        noun = KINDS[found].noun if found in KINDS else "artifact"
        raise spec.error(
            f"{path}: this is a {found!r} {noun}, expected {kind!r} ({spec.name}). Check the path."
        )
    version = data.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise spec.error(f"{path}: no valid format version ({version!r}): {fix}.")
    if version > FORMAT_VERSION:
        raise spec.error(
            f"{path}: format version {version} is newer than this program reads "
            f"({FORMAT_VERSION}): upgrade offline-assistant (`pip install -U offline-assistant`)."
        )
    if version < OLDEST_FORMAT_VERSION:
        raise spec.error(
            f"{path}: format version {version} is older than this program reads "
            f"({OLDEST_FORMAT_VERSION} to {FORMAT_VERSION}): {fix}."
        )
    if "libraries" in data and "library_versions" not in data:  # format version 1 models
        data["library_versions"] = data.pop("libraries")
    for key in spec.required:
        if key not in data:
            raise spec.error(f"{path} has no {key!r} entry: {fix}.")
    return data


__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "MANIFEST_FILE",
    "library_versions",
    "read_manifest",
    "write_json_atomic",
    "write_manifest",
]
