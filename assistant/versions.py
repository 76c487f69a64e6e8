"""Model versions: a models directory that keeps every version and names the current one.

    MODELS/
      current              {"version": "3", "previous": ["1", "2"], ...}: the pointer, replaced
                           atomically (temporary file + os.replace): a reader sees the old
                           version or the new one, never half of each
      versions/<ID>/       one version, never changed once written (IDs are 1, 2, 3, ...):
        manifest.json      kind "model-version": id, parent, created, how it was made, gate
        intent/ ranker/    the two models (files shared with the parent by hard links when
                           a model was not retrained: a version costs only what changed)
        data/              the training-data snapshot retraining starts from
        metrics.json       its scores on the frozen evaluation set (`assistant retrain`)
        gate.json          the gate's verdict when it was a retraining candidate
      eval/                the frozen evaluation set every candidate is compared on
      history.jsonl        every promotion, rollback, migration and refused candidate
      .lock                held while a version is added or the pointer switched

A directory of the older shape (`MODELS/intent`, `MODELS/ranker`) keeps working, as version 1:
the first command that works with versions (`assistant retrain`, `assistant models ...`) makes
it version 1 on disk without retraining (`ModelStore.migrate`); loading models for a chat or
`ask` writes nothing. Its files are hard-linked into
`versions/1` (copied where the file system cannot link), so nothing of the original is moved or
deleted: a chat that has them open and an index that names `MODELS/ranker` are unaffected. A
read-only directory is used as it is, as version 1, without migrating. A model trained into
`MODELS/intent` or `MODELS/ranker` the older way afterwards (`assistant train ... --out
MODELS/intent`, `assistant demo --force`) becomes the next version and current, as it was
before versions (`ModelStore.sync_top_level`, "import" in the history); `assistant retrain` is
the gated way.

`resolve_models` is the one place a `--models DIR` becomes the directory of the models to load;
`resolve_model` does the same for a `--model DIR` that may name a models directory. No torch
here: `--help`, `ask` and the chat import this.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ModelError
from kb.manifest import (
    MANIFEST_FILE,
    read_manifest,
    sha256_file,
    verify_files,
    write_json_atomic,
    write_manifest,
)

POINTER = "current"
VERSIONS = "versions"
EVAL_DIR = "eval"
HISTORY = "history.jsonl"
LOCK = ".lock"
TOP_LEVEL = "top-level.json"  # the manifests' sha256 of MODELS/intent, MODELS/ranker last seen
KIND = "model-version"
MODEL_KINDS = ("intent", "ranker")
_ID = re.compile(r"^[1-9][0-9]{0,8}$")


@dataclass(frozen=True)
class ResolvedModels:
    """Where the models of a `--models DIR` are, and which version that is."""

    path: Path  # the directory holding intent/ and ranker/
    version: str | None  # the version id; None for a directory that is not versioned
    root: Path | None = None  # the models directory (None: `path` was given directly)


@dataclass
class VersionInfo:
    """One version, as `assistant models list` shows it."""

    id: str
    created: str = ""
    parent: str | None = None
    source: str = ""  # "migrated" | "retrain"
    promoted: bool | None = None  # the gate's verdict (None: no gate ran, e.g. migrated)
    forced: bool = False  # promoted over a refusal
    current: bool = False
    metrics: dict = field(default_factory=dict)  # headline metrics on the frozen eval set
    size_bytes: int = 0  # disk space its own files take (hard links shared with others count)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "created": self.created,
            "parent": self.parent,
            "source": self.source,
            "gate_passed": self.promoted,
            "forced": self.forced,
            "current": self.current,
            "metrics": self.metrics,
            "size_bytes": self.size_bytes,
        }


def is_legacy(path: Path) -> bool:
    """A models directory of the older shape: intent/ (with a manifest) at the top, no pointer."""
    return (
        (path / "intent" / MANIFEST_FILE).is_file()
        and not (path / POINTER).exists()
        and _kind_of(path) != KIND  # a version's own directory is not one
    )


def is_versioned(path: Path) -> bool:
    """A models directory with a `current` pointer."""
    return (path / POINTER).is_file()


def has_models(path: str | os.PathLike) -> bool:
    """Whether `path` holds models: versioned, of the older shape, or one version's directory."""
    p = Path(path).expanduser()
    return is_versioned(p) or (p / "intent" / MANIFEST_FILE).is_file()


def utc_now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")


class ModelStore:
    """A models directory with versions (see the module doc).

    >>> import tempfile
    >>> store = ModelStore(tempfile.mkdtemp())  # an empty directory: no versions yet
    >>> store.ids(), store.stamp() is None
    ([], True)
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()

    # -- reading -------------------------------------------------------------------------------
    @property
    def pointer(self) -> Path:
        return self.path / POINTER

    @property
    def eval_dir(self) -> Path:
        return self.path / EVAL_DIR

    def version_dir(self, version_id: str) -> Path:
        return self.path / VERSIONS / check_id(version_id)

    def read_pointer(self) -> dict:
        """The pointer's content: {"version": ID, "previous": [IDs], ...}."""
        try:
            data = json.loads(self.pointer.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("version"), str):
                raise ValueError("no version in it")
            check_id(data["version"])
        except FileNotFoundError:
            raise ModelError(
                f"{self.pointer}: no current version. Promote one with `assistant models "
                f"promote ID --models {self.path}`."
            ) from None
        except (OSError, ValueError, ModelError) as exc:
            raise ModelError(
                f"{self.pointer} is damaged ({exc}): choose the version to use with "
                f"`assistant models promote ID --models {self.path}` (see `assistant models "
                "list`)."
            ) from None
        prev = data.get("previous")
        data["previous"] = [p for p in prev if isinstance(p, str)] if isinstance(prev, list) else []
        return data

    def current_id(self) -> str:
        """The current version's id (a directory of the older shape is version 1)."""
        if not self.pointer.exists() and is_legacy(self.path):
            return "1"
        return self.read_pointer()["version"]

    def ids(self) -> list[str]:
        """The ids of the finished versions, oldest first."""
        root = self.path / VERSIONS
        if not root.is_dir():
            return ["1"] if is_legacy(self.path) else []
        found = [p.name for p in root.iterdir() if _ID.match(p.name) and p.is_dir()]
        return sorted(found, key=int)

    def manifest(self, version_id: str) -> dict:
        """The version's manifest (kind "model-version"); {} for an unmigrated directory."""
        if is_legacy(self.path) and not (self.path / VERSIONS).is_dir() and version_id == "1":
            return {"id": "1", "source": "legacy (not migrated: read-only)"}
        return read_manifest(self.version_dir(version_id), KIND)

    def resolve(self, version_id: str | None = None) -> ResolvedModels:
        """The models of `version_id` (default: the current one)."""
        vid = version_id or self.current_id()
        if is_legacy(self.path) and not (self.path / VERSIONS / vid).is_dir():
            if vid != "1":
                raise ModelError(f"{self.path}: no version {vid!r} (only 1, not yet migrated).")
            return ResolvedModels(self.path, "1", self.path)
        path = self.version_dir(vid)
        if not (path / MANIFEST_FILE).is_file():
            raise ModelError(
                f"{self.path}: no version {vid!r} (versions: {', '.join(self.ids()) or 'none'}). "
                f"See `assistant models list --models {self.path}`."
            )
        return ResolvedModels(path, vid, self.path)

    def read_json(self, version_id: str, name: str) -> dict:
        """A JSON file of a version (metrics.json, gate.json); {} when it has none."""
        try:
            data = json.loads((self.version_dir(version_id) / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def history(self) -> list[dict]:
        """Every recorded event, oldest first (a damaged line is skipped)."""
        try:
            lines = (self.path / HISTORY).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                out.append(event)
        return out

    def list(self) -> list[VersionInfo]:
        """Every version with its status, oldest first."""
        current = self.current_id() if (self.pointer.exists() or is_legacy(self.path)) else None
        forced = {e.get("version") for e in self.history() if e.get("forced")}
        out = []
        for vid in self.ids():
            m = self.manifest(vid)
            gate = m.get("gate") if isinstance(m.get("gate"), dict) else None
            metrics = self.read_json(vid, "metrics.json")
            out.append(
                VersionInfo(
                    id=vid,
                    created=str(m.get("created", "")),
                    parent=m.get("parent"),
                    source=str(m.get("source", "")),
                    promoted=None if gate is None else bool(gate.get("passed")),
                    forced=vid in forced,
                    current=vid == current,
                    metrics=headline(metrics),
                    size_bytes=disk_size(self.resolve(vid).path),
                )
            )
        return out

    def diff(self, a: str, b: str) -> dict:
        """Per-intent F1 of versions `a` and `b` on the exam each was scored on
        (metrics.json); `same_exam` says whether that was the same evaluation set."""
        for vid in (a, b):
            self.resolve(vid)
        ma, mb = self.read_json(a, "metrics.json"), self.read_json(b, "metrics.json")
        fa, fb = ma.get("per_intent", {}), mb.get("per_intent", {})
        n = {**ma.get("per_intent_n", {}), **mb.get("per_intent_n", {})}
        ea, eb = ma.get("eval") or {}, mb.get("eval") or {}
        rows = [
            {
                "intent": k,
                "n": n.get(k),
                "f1_a": fa.get(k),
                "f1_b": fb.get(k),
                "change": None if fa.get(k) is None or fb.get(k) is None else fb[k] - fa[k],
            }
            for k in sorted(set(fa) | set(fb))
        ]
        return {
            "a": a,
            "b": b,
            "same_exam": bool(ea) and ea.get("fingerprint") == eb.get("fingerprint"),
            "metrics": {a: headline(ma), b: headline(mb)},
            "per_intent": rows,
        }

    def stamp(self) -> tuple | None:
        """What changes when the pointer is switched (cheap: one stat); None without one."""
        try:
            st = self.pointer.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    # -- writing -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the directory's lock (one writer of versions and the pointer at a time)."""
        handle = open(self.path / LOCK, "a+")  # noqa: SIM115 - closed below
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: one writer is the user's job
                fcntl = None
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield
        finally:
            handle.close()  # releases the lock

    def record(self, event: dict) -> None:
        """Append an event to history.jsonl (one line, written with one call)."""
        line = json.dumps({"time": utc_now(), **event}, ensure_ascii=False, default=str) + "\n"
        fd = os.open(self.path / HISTORY, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def _write_pointer(self, version_id: str, previous: list[str], action: str) -> None:
        write_json_atomic(
            self.pointer,
            {"version": version_id, "previous": previous[-50:], "time": utc_now(), "by": action},
        )

    def migrate(self) -> bool:
        """Make a directory of the older shape version 1 (see the module doc); True if it did.

        Raises OSError when the directory cannot be written, and ModelError (naming the file)
        when a model there is damaged: only sound models are migrated, so that the damage is
        reported where it is (the caller then uses the directory as it is).
        """
        if not is_legacy(self.path):
            return False
        for kind in MODEL_KINDS:  # sizes and sha256 recorded at training (~0.2 s, once)
            if (self.path / kind).is_dir():
                verify_files(self.path / kind, read_manifest(self.path / kind, kind), kind)
        with self.lock():
            if not is_legacy(self.path):  # another process did it meanwhile
                return False
            root = self.path / VERSIONS
            target = root / "1"
            if not target.is_dir():
                root.mkdir(exist_ok=True)
                tmp = _fresh_dir(root, "migrate")
                try:
                    # The policy's calibration (assistant.calibration) goes with its models.
                    for kind in (*MODEL_KINDS, "calibration"):
                        if (self.path / kind).is_dir():
                            link_tree(self.path / kind, tmp / kind)
                    write_manifest(
                        tmp,
                        KIND,
                        id="1",
                        parent=None,
                        created=utc_now(),
                        source="migrated",
                        migrated_from=str(self.path.resolve()),
                        gate=None,
                    )
                    os.rename(tmp, target)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
            self._write_pointer("1", [], "migrate")
            write_json_atomic(self.path / TOP_LEVEL, self._top_level_hashes())
            self.record({"event": "migrate", "version": "1"})
        return True

    def _top_level_hashes(self) -> dict:
        out = {}
        for kind in MODEL_KINDS:
            with contextlib.suppress(OSError):
                out[kind] = sha256_file(self.path / kind / MANIFEST_FILE)
        return out

    def sync_top_level(self) -> str | None:
        """A model trained into MODELS/intent or MODELS/ranker the older way (`assistant train
        ... --out MODELS/intent`, `assistant demo --force`) after the directory got versions
        becomes a new version, made current as it was before versions ("import" in the
        history); returns its id (None: nothing new there). Raises OSError when read-only."""
        hashes = self._top_level_hashes()
        if "intent" not in hashes or not self.pointer.exists():
            return None
        if self._seen_top_level() == hashes:
            return None
        with self.lock():
            seen = self._seen_top_level()
            if seen == hashes:
                return None
            if seen is None:  # nothing recorded: remember what is there now
                write_json_atomic(self.path / TOP_LEVEL, hashes)
                return None
            cur = self.read_pointer()["version"]
            tmp = self.new_version()
            try:
                for kind in MODEL_KINDS:
                    src = self.path / kind
                    if not (src / MANIFEST_FILE).is_file():
                        src = self.version_dir(cur) / kind
                    link_tree(src, tmp / kind)
                changed = sorted(k for k in hashes if hashes.get(k) != seen.get(k))
                vid = self._add_locked(
                    tmp,
                    {"parent": cur, "created": utc_now(), "source": "import", "gate": None,
                     "imported": changed},
                )  # fmt: skip
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            self._promote_locked(vid, "import", False, f"trained into {', '.join(changed)}/")
            write_json_atomic(self.path / TOP_LEVEL, hashes)
            return vid

    def _seen_top_level(self) -> dict | None:
        try:
            data = json.loads((self.path / TOP_LEVEL).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def ensure(self) -> None:
        """Migrate a directory of the older shape; raise ModelError when there are no models."""
        if is_legacy(self.path):
            self.migrate()
        self.sync_top_level()
        if not self.pointer.exists():
            raise ModelError(
                f"{self.path}: no models there (no `current` pointer, no intent/ and ranker/). "
                "Run `assistant demo --no-chat`, or train models into it."
            )

    def promote(
        self, version_id: str, action: str = "promote", forced: bool = False, note: str = ""
    ) -> str | None:
        """Make `version_id` current (atomic); returns the version it replaced."""
        check_id(version_id)
        with self.lock():
            return self._promote_locked(version_id, action, forced, note)

    def _promote_locked(self, version_id: str, action: str, forced: bool, note: str) -> str | None:
        self.resolve(version_id)  # it exists and has a manifest
        old = self.read_pointer() if self.pointer.exists() else {"version": None, "previous": []}
        if old["version"] == version_id:
            return old["version"]
        previous = list(old["previous"]) + ([old["version"]] if old["version"] else [])
        self._write_pointer(version_id, previous, action)
        self.record(
            {
                "event": action,
                "version": version_id,
                "from": old["version"],
                "forced": forced,
                **({"note": note} if note else {}),
            }
        )
        return old["version"]

    def rollback(self) -> tuple[str, str]:
        """Go back to the version that was current before this one; (from, to)."""
        with self.lock():
            ptr = self.read_pointer()
            previous = [p for p in ptr["previous"] if (self.path / VERSIONS / p).is_dir()]
            if not previous:
                raise ModelError(
                    f"{self.path}: version {ptr['version']} has no earlier current version to "
                    "roll back to (see `assistant models list`; `assistant models promote ID` "
                    "chooses any version)."
                )
            target = previous[-1]
            self._write_pointer(target, previous[:-1], "rollback")
            self.record({"event": "rollback", "version": target, "from": ptr["version"]})
            return ptr["version"], target

    def new_version(self) -> Path:
        """A fresh hidden directory under versions/ to build a candidate in; `add_version`
        makes it a version."""
        root = self.path / VERSIONS
        root.mkdir(parents=True, exist_ok=True)
        return _fresh_dir(root, "candidate")

    def add_version(
        self, tmp: Path, manifest: dict, promote: bool = False, forced: bool = False
    ) -> str:
        """Give the candidate built in `tmp` the next id (under the lock), write its manifest,
        and promote it if asked; returns its id."""
        with self.lock():
            vid = self._add_locked(tmp, manifest)
            if promote:
                self._promote_locked(vid, "force" if forced else "promote", forced, "")
            return vid

    def _add_locked(self, tmp: Path, manifest: dict) -> str:
        ids = self.ids()
        vid = str(int(ids[-1]) + 1 if ids else 1)
        write_manifest(tmp, KIND, **{**manifest, "id": vid})
        os.rename(tmp, self.path / VERSIONS / vid)
        return vid


def check_id(version_id: str) -> str:
    """A version id is a positive integer (as text): nothing else is ever a path under versions/."""
    if not isinstance(version_id, str) or not _ID.match(version_id):
        raise ModelError(
            f"{version_id!r} is not a version id: ids are 1, 2, 3, ... (see `assistant models "
            "list`)."
        )
    return version_id


def _fresh_dir(parent: Path, tag: str) -> Path:
    while True:
        path = parent / f".{tag}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:  # pragma: no cover - 1 in 4 billion
            continue


def link_tree(src: Path, dst: Path) -> None:
    """Recreate the files of `src` under `dst` as hard links (copies where linking fails)."""
    for item in sorted(src.rglob("*")):
        rel = item.relative_to(src)
        target = dst / rel
        if item.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(item, target)
        except OSError:  # another file system, or links not allowed: a copy costs space only
            shutil.copy2(item, target)
    dst.mkdir(parents=True, exist_ok=True)


def disk_size(path: Path) -> int:
    """Bytes of the files under `path`."""
    total = 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file() and not p.is_symlink():
                total += p.stat().st_size
    return total


def headline(metrics: dict) -> dict:
    """The figures `models list` shows from a version's metrics.json."""
    intent = metrics.get("intent") if isinstance(metrics.get("intent"), dict) else {}
    ranker = metrics.get("ranker") if isinstance(metrics.get("ranker"), dict) else {}
    out = {k: intent.get(k) for k in ("accuracy", "macro_f1", "oos_recall") if k in intent}
    if "recall_at_1" in ranker:
        out["ranker_recall_at_1"] = ranker["recall_at_1"]
    return out


def resolve_models(models_dir: str | os.PathLike, migrate: bool = False) -> ResolvedModels:
    """The directory of the models a `--models DIR` means, and its version.

    - a versioned directory: its current version;
    - a directory of the older shape (intent/, ranker/ at the top): version 1, used where it
      is; with `migrate` it becomes version 1 first when it can be written and is sound
      (the commands that work with versions do that: `retrain`, `models ...`; loading the
      models for a chat or `ask` changes nothing on disk);
    - one version's own directory (versions/<ID>): that version.
    """
    path = Path(models_dir).expanduser()
    if _kind_of(path) == KIND:  # a version's own directory
        return ResolvedModels(path, str(read_manifest(path, KIND).get("id")), None)
    store = ModelStore(path)
    if is_versioned(path):
        with contextlib.suppress(OSError):  # read-only: what is current stays current
            store.sync_top_level()
        return store.resolve()
    if is_legacy(path):
        if migrate:
            # Read-only: used as it is, as version 1. Damaged: the loader names the file there.
            with contextlib.suppress(OSError, ModelError):
                store.migrate()
            if is_versioned(path):
                return store.resolve()
        return ResolvedModels(path, "1", path)
    return ResolvedModels(path, None, None)


def resolve_model(model_dir: str | os.PathLike, kind: str) -> Path:
    """The `kind` model ("intent" or "ranker") a `--model DIR` means: DIR itself when it is
    such a model (or any other model directory), else the current version's `kind` model
    when DIR is a models directory."""
    path = Path(model_dir).expanduser()
    found = _kind_of(path)
    if found == KIND:  # one version's directory
        return path / kind
    if found is not None or (path / "config.json").is_file():
        return path
    if has_models(path):
        return resolve_models(path).path / kind
    return path


def _kind_of(path: Path) -> str | None:
    try:
        data = json.loads((path / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("kind") if isinstance(data, dict) else None


class PointerWatch:
    """Tells a long-running process (the chat, the triage console) that the current version
    changed: one stat of the pointer per check."""

    def __init__(
        self, models_dir: str | os.PathLike, version: str | None, check_now: bool = False
    ) -> None:
        """`check_now`: the first `changed` reads the pointer even if it was not switched
        since (for a process that loaded its models before watching)."""
        self.store = ModelStore(models_dir)
        self.version = version  # the version in use
        self._stamp = None if check_now else self.store.stamp()

    def changed(self) -> str | None:
        """The new current version's id when it is not the one in use, else None."""
        stamp = self.store.stamp()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        try:
            vid = self.store.read_pointer()["version"]
        except ModelError:
            return None  # a damaged pointer: keep what is loaded
        return None if vid == self.version else vid


__all__ = [
    "ModelStore",
    "PointerWatch",
    "ResolvedModels",
    "VersionInfo",
    "has_models",
    "resolve_model",
    "resolve_models",
]
