"""`manifest.json`: every artifact directory (intent model, ranker model with its response
bank, knowledge-base index) describes itself in one format.

Every manifest holds at least:

    kind              what the directory is: "intent", "ranker", "model-version" (one version
                      of a models directory, `assistant.versions`), "kb-index" (see `KINDS`)
    format_version    the version of this format (`FORMAT_VERSION`), one scheme for every kind
    library_versions  versions of the libraries that wrote it (`library_versions()`)

and the kind's own fields (config, label map, metrics, data fingerprint, artifacts...).
`write_manifest` writes one atomically; `read_manifest` reads one, checks its kind, format
version and required fields, and says how to fix a mismatch (retrain, rebuild or upgrade).

Damaged files: a manifest may list `checksums`, {relative path: {"size", "sha256"}} of the
files the artifact needs at load time, recorded when it was written (`file_checksums`).
`verify_files` checks them before a loader parses anything: a missing, unreadable, truncated
or overwritten file is named with what to do, instead of a parser's traceback. A flipped bit
in a weight file keeps its size and header, so only its hash finds it: every file is hashed at
its first load (about 0.1 s of CPU for a MiniLM-sized model, 92 MB), and again whenever its
stat (size, times, inode) has changed since a hash that matched (`VerifiedFiles`; any write
moves a file's ctime). ASSISTANT_VERIFY=always hashes every file at every load.
Manifests without `checksums` (written before they existed) still load, unchecked.

Paths inside a manifest are relative to the artifact directory (or symbolic, such as the
bundled model), so a data directory can be copied or moved and still loads.

Format history:
    1  models wrote their library versions as `libraries`, indexes as `library_versions`
    2  `library_versions` everywhere (version 1 manifests still load: `libraries` is renamed);
       later writes add `checksums` (optional: older version 2 manifests lack it)
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kb.errors import AssistantError, KBIndexError, ModelError

FORMAT_VERSION = 2
OLDEST_FORMAT_VERSION = 1  # manifests from this version on still load
MANIFEST_FILE = "manifest.json"
CHECKSUMS = "checksums"  # the manifest key: {relative path: {"size": bytes, "sha256": hex}}
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
    "model-version": Kind(
        "model version",
        "make versions with `assistant retrain` (see `assistant models list`); {dir} is damaged",
        ModelError,
        ("id",),
    ),
    "calibration": Kind(
        "policy calibration",
        "recalibrate: `assistant calibrate --models MODELS --data VALIDATION.jsonl` (or delete "
        "{dir} to answer with the config defaults)",
        ModelError,
        ("thresholds",),
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
    try:
        if not path.is_file():
            raise spec.error(f"{path} is missing: {directory} is not a {spec.name}: {fix}.")
        data = json.loads(path.read_text(encoding="utf-8"))
    except PermissionError:  # the file, or the directory that holds it
        raise spec.error(unreadable_message(path, directory)) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise spec.error(f"{path} is corrupted ({exc}): {fix}.") from None
    if not isinstance(data, dict):
        raise spec.error(f"{path} is corrupted (not a JSON object): {fix}.")
    found = data.get("kind")
    if found is None:
        raise spec.error(f"{path} has no 'kind' entry: {fix}.")
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
    if not isinstance(data.get(CHECKSUMS, {}), dict):
        raise spec.error(f"{path}: its {CHECKSUMS!r} entry is not an object: {fix}.")
    return data


def unreadable_message(path: str | os.PathLike, directory: str | os.PathLike) -> str:
    """What to say about a file of the artifact `directory` that this process may not read
    (permission denied: it may well exist, so never "no such file")."""
    return (
        f"{path} cannot be read: permission denied. Give the user running the assistant "
        f"read access to the directory, e.g. `chmod -R a+rX {directory}`, or run as its owner."
    )


def sha256_file(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, as hex, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def file_checksums(directory: str | os.PathLike, names) -> dict[str, dict]:
    """{name: {"size", "sha256"}} of the files `names` (relative POSIX paths) in `directory`,
    for a manifest's `checksums` entry.

    >>> import tempfile; d = Path(tempfile.mkdtemp()); _ = (d / "a").write_bytes(b"abc")
    >>> file_checksums(d, ["a"])["a"]["size"]
    3
    """
    directory = Path(directory)
    return {
        name: {"size": (directory / name).stat().st_size, "sha256": sha256_file(directory / name)}
        for name in sorted(names)
    }


def verify_files(directory: str | os.PathLike, manifest: dict, kind: str, names=None) -> list[str]:
    """Check the files the manifest of `directory` has checksums for (or only `names` of
    them): each must exist, be readable, and have the recorded size and sha256.

    Raises the kind's error naming the first damaged file and the fix (retrain, rebuild, or
    fix permissions). Returns the names checked ([] for a manifest without checksums).
    """
    spec = KINDS[kind]
    directory = Path(directory)
    recorded = manifest.get(CHECKSUMS) or {}
    wanted = sorted(recorded) if names is None else [n for n in names if n in recorded]
    verify_checksums(
        directory,
        {name: recorded[name] for name in wanted},
        error=spec.error,
        fix=spec.fix.format(dir=directory),
        what=spec.name,
        listed_in=directory / MANIFEST_FILE,
    )
    return wanted


def user_cache_path(folder: str, directory: str | os.PathLike) -> Path:
    """`~/.cache/offline-assistant/FOLDER/KEY`, KEY naming `directory` by its resolved path
    (what this project keeps about a directory it may not write to: its ONNX export, its
    verified files)."""
    from platformdirs import user_cache_dir

    key = hashlib.sha256(str(Path(directory).resolve()).encode()).hexdigest()[:24]
    return Path(user_cache_dir("offline-assistant", appauthor=False)) / folder / key


VERIFY_ENV = "ASSISTANT_VERIFY"  # "always": hash every file at every load (no stat cache)
QUIET_NS = 2_000_000_000  # a file changed this recently before its hash is hashed again next load


def verify_checksums(
    directory: Path,
    recorded: dict,
    *,
    error: type[AssistantError],
    fix: str,
    what: str,
    listed_in: Path,
) -> None:
    """Check `recorded` ({relative path: {"size", "sha256"}}) against the files in
    `directory`; raise `error` naming the first damaged file, what it belongs to (`what`)
    and `fix`.

    A file is hashed unless it was hashed before with a matching sha256 and still has the
    same size, modification time, status-change time (ctime) and inode (`VerifiedFiles`):
    writing to a file, replacing or restoring it moves its ctime, which no tool can set
    back. That saves ~0.1 s of CPU per MiniLM-sized model at every start after the first.
    Set ASSISTANT_VERIFY=always to hash every file at every load.
    """
    seen = VerifiedFiles.open(directory)
    for name, entry in recorded.items():
        path = directory / name
        try:
            stat = path.stat()
            if not isinstance(entry, dict) or "size" not in entry or "sha256" not in entry:
                raise error(
                    f"{listed_in}: the checksum entry of {name!r} is malformed ({entry!r}): {fix}."
                )
            size = stat.st_size
            if size != entry["size"]:
                how = "empty" if size == 0 else ("truncated" if size < entry["size"] else "grown")
                raise error(
                    f"{path} is damaged ({how}: {size} bytes, {entry['size']} when the "
                    f"{what} was written): {fix}."
                )
            if seen.known(name, stat, entry["sha256"]):
                continue
            started = time.time_ns()
            if sha256_file(path) != entry["sha256"]:
                raise error(
                    f"{path} is damaged (its sha256 differs from the one recorded when the "
                    f"{what} was written: corrupted or overwritten): {fix}."
                )
            seen.remember(name, stat, entry["sha256"], started)
        except FileNotFoundError:
            raise error(f"{path} is missing from the {what}: {fix}.") from None
        except PermissionError:
            raise error(unreadable_message(path, directory)) from None
        except IsADirectoryError:
            raise error(f"{path} is a directory, not a file: {fix}.") from None
    seen.save()


class VerifiedFiles:
    """The files of one directory whose sha256 matched their record, each with the stat it
    had when it was hashed: a small JSON file in the user cache
    (`~/.cache/offline-assistant/verified/`), keyed by the directory's path.

    A stat is remembered only for a file that had not changed for `QUIET_NS` before it was
    hashed: file times come from a coarse clock, and a write within the same tick as the hash
    could otherwise keep every time the same. Nothing is remembered when the cache cannot be
    written; a damaged cache file is ignored (the files are hashed again).
    """

    def __init__(self, file: Path | None, stamps: dict) -> None:
        self.file = file
        self.stamps = stamps
        self.changed = False

    @classmethod
    def open(cls, directory: Path) -> VerifiedFiles:
        if os.environ.get(VERIFY_ENV, "").strip().lower() == "always":
            return cls(None, {})
        file = user_cache_path("verified", directory).with_suffix(".json")
        try:
            stamps = json.loads(file.read_text()) if file.is_file() else {}
        except (OSError, ValueError):
            stamps = {}  # unreadable or damaged: hashed again, then written anew
        return cls(file, stamps if isinstance(stamps, dict) else {})

    @staticmethod
    def _stamp(stat: os.stat_result, sha256: str) -> list:
        return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev, sha256]

    def known(self, name: str, stat: os.stat_result, sha256: str) -> bool:
        return self.file is not None and self.stamps.get(name) == self._stamp(stat, sha256)

    def remember(self, name: str, stat: os.stat_result, sha256: str, hashed_at_ns: int) -> None:
        if self.file is None:
            return
        if hashed_at_ns - max(stat.st_mtime_ns, stat.st_ctime_ns) < QUIET_NS:
            self.stamps.pop(name, None)  # too fresh to vouch for: hash it again next time
        else:
            self.stamps[name] = self._stamp(stat, sha256)
        self.changed = True

    def save(self) -> None:
        if self.file is None or not self.changed:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(self.file, self.stamps)
        except OSError:
            pass  # a cache: the next load hashes again


__all__ = [
    "CHECKSUMS",
    "FORMAT_VERSION",
    "KINDS",
    "MANIFEST_FILE",
    "file_checksums",
    "library_versions",
    "read_manifest",
    "sha256_file",
    "unreadable_message",
    "user_cache_path",
    "VerifiedFiles",
    "verify_checksums",
    "verify_files",
    "write_json_atomic",
    "write_manifest",
]
