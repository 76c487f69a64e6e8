"""Where a training run writes: `--out` is ours to replace, or it is refused.

Rules (never delete what we did not write):

- `--out` may be missing, an empty directory, or one of our artifacts of the same kind
  (a `manifest.json` saying so) that holds only files we wrote. Anything else (a directory
  with other files, a model of another kind, a file, a symbolic link) is refused before
  training starts, with the reason and the fix.
- The new artifact is written into a fresh hidden directory beside `--out`; only once it is
  complete does it take `--out`'s place, and only then are the previous artifact's files
  removed. A crash or an error before that leaves the previous artifact as it was (and the
  unfinished directory is removed when Python can still do so).
- Nothing else is touched: no `DIR.old`, no sibling, no file the previous artifact did not
  list. Each manifest lists the artifact's files (`files`), which is how the next run knows
  which ones are ours; for artifacts written before that list existed, the file names that
  our trainers write are recognised.
- Each manifest also records the size and sha256 of every file the model needs at load time
  (`checksums`, see `kb.manifest.verify_files`): a damaged file is then named at load, with
  the command that retrains it. Reports (`REPORT_FILES`) are left out: editing one does not
  stop the model from loading; so is the ONNX export (`DERIVED_DIRS`), which is made again
  when missing or stale.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ConfigError
from kb.manifest import CHECKSUMS, file_checksums, write_manifest
from kb.onnx_backend import EXPORT_FILES

# Files our trainers wrote before manifests listed them (encoder, head, bank, lexical towers,
# reports), for replacing artifacts of that age.
_LEGACY_FILES = {
    "manifest.json",
    "manifest.json.tmp",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "head.safetensors",
    "metrics.json",
    "per_intent.csv",
    "confusion.png",
    "confused_pairs.json",
    "bank.jsonl",
    "bank_embeddings.npy",
    "lexical.json",
    "lexical_context.npy",
    "lexical_reply.npy",
}
_LEGACY_DIRS = ("1_Pooling/", "2_Normalize/")
# Files written for people, not read by any loader (training/report.py): no checksum.
REPORT_FILES = frozenset({"metrics.json", "per_intent.csv", "confusion.png", "confused_pairs.json"})
# Derived files, made again when missing or stale, so their bytes may legitimately change:
# the ONNX export (`kb.onnx_backend` checks it against the weights it was exported from).
DERIVED_DIRS = ("onnx/",)


def _checksummed(name: str) -> bool:
    """Whether the manifest records the size and sha256 of the artifact's file `name`."""
    return name not in REPORT_FILES and not name.startswith(DERIVED_DIRS)


def _files(root: Path) -> list[str]:
    """Every file under `root`, as sorted relative POSIX paths."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not p.is_dir())


def _read_kind_and_files(out: Path) -> tuple[str | None, list[str] | None]:
    """(kind, listed files) from `out/manifest.json`; (None, None) when it is not ours."""
    try:
        data = json.loads((out / "manifest.json").read_text())
    except (OSError, ValueError):
        return None, None
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
        return None, None
    files = data.get("files")
    listed = [f for f in files if isinstance(f, str)] if isinstance(files, list) else None
    return data["kind"], listed


def _is_ours(name: str, listed: list[str] | None) -> bool:
    if name in EXPORT_FILES:  # the ONNX export, split or remade after the manifest was written
        return True
    if listed is not None:
        return name == "manifest.json" or name in listed
    return name in _LEGACY_FILES or name.startswith(_LEGACY_DIRS)


def foreign_files(out: Path, listed: list[str] | None) -> list[str]:
    """Files in the artifact directory `out` that it does not list as its own."""
    return [f for f in _files(out) if not _is_ours(f, listed)]


def check_out_dir(out: str | Path, kind: str) -> None:
    """Raise ConfigError unless a `kind` artifact may be written to `out` (see module doc)."""
    out = Path(out)
    if out.is_symlink():
        raise ConfigError(
            f"--out {out}: is a symbolic link; give the real directory ({out.resolve()}) or a "
            "new path."
        )
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"--out {out}: is a file, not a directory. Choose another --out.")
    if not any(out.iterdir()):
        return
    found, listed = _read_kind_and_files(out)
    if found is None:
        raise ConfigError(
            f"--out {out}: the directory is not empty and is not a model we trained (no "
            "manifest.json); refusing to write into it so that nothing there is lost. Choose "
            "a new or empty directory, or an existing model directory to replace."
        )
    if found != kind:
        raise ConfigError(
            f"--out {out}: holds a model of kind {found!r}, not {kind!r}; refusing to replace "
            "it. Choose another --out."
        )
    foreign = foreign_files(out, listed)
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise ConfigError(
            f"--out {out}: the {kind} model there also holds files it did not write ({shown}); "
            "refusing to replace it so that they are not lost. Move them elsewhere, or choose "
            "another --out."
        )


@dataclass
class Artifact:
    """The directory a new artifact is being written into (`path`), and its manifest."""

    path: Path  # the fresh directory; `out` once the artifact is in place
    manifest: dict = field(default_factory=dict)  # set by the writer: what manifest.json says
    kept: Path | None = None  # the previous artifact, when files appeared in it meanwhile


def _unique_sibling(out: Path, tag: str) -> Path:
    """A new empty hidden directory beside `out`, created here so no one else gets the name
    (with the usual permissions, unlike `tempfile.mkdtemp`'s owner-only ones)."""
    while True:
        path = out.with_name(f".{out.name}.{tag}-{secrets.token_hex(4)}")
        try:
            path.mkdir()
            return path
        except FileExistsError:  # pragma: no cover - 1 in 4 billion
            continue


def _remove_listed(old: Path, listed: list[str] | None) -> list[str]:
    """Delete the files of a replaced artifact that it lists as its own, then its empty
    directories; returns what was left (anything that appeared meanwhile)."""
    for name in _files(old):
        if _is_ours(name, listed):
            (old / name).unlink()
    for d in sorted((p for p in old.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()
    left = _files(old)
    if not left:
        old.rmdir()
    return left


@contextmanager
def write_artifact(out: str | Path, kind: str) -> Iterator[Artifact]:
    """Write a `kind` artifact that replaces `out` only once it is complete.

    The body writes its files into `artifact.path` (a fresh directory beside `out`) and sets
    `artifact.manifest` to what its `manifest.json` says. On success the manifest gains the
    list of files and their checksums, and the directory takes `out`'s place; on an error it
    is removed and `out` is untouched.
    """
    out = Path(os.path.abspath(out))  # "." and "x/.." name their directory too
    check_out_dir(out, kind)
    out.parent.mkdir(parents=True, exist_ok=True)
    artifact = Artifact(_unique_sibling(out, "new"))
    try:
        yield artifact
        manifest = {
            k: v for k, v in artifact.manifest.items() if k not in ("kind", "format_version")
        }
        manifest["files"] = [f for f in _files(artifact.path) if f != "manifest.json"]
        manifest[CHECKSUMS] = file_checksums(
            artifact.path, [f for f in manifest["files"] if _checksummed(f)]
        )
        artifact.manifest = write_manifest(artifact.path, kind, **manifest)
        artifact.kept = _swap_in(artifact.path, out, kind)
    except BaseException:
        if artifact.path.exists():
            shutil.rmtree(artifact.path)
        raise
    artifact.path = out


def _swap_in(new: Path, out: Path, kind: str) -> Path | None:
    """Put the finished `new` in `out`'s place; the previous artifact goes only after that.
    Returns where the previous one was kept when files it did not list appeared in it."""
    # Check again: `out` may have changed during training.
    check_out_dir(out, kind)
    if not out.exists():
        new.rename(out)
        return None
    if not any(out.iterdir()):
        out.rmdir()
        new.rename(out)
        return None
    _, listed = _read_kind_and_files(out)
    old = _unique_sibling(out, "old")
    # Renamed over our own empty placeholder: the name cannot belong to anything else.
    os.replace(out, old)
    try:
        new.rename(out)
    except BaseException:
        os.replace(old, out)
        raise
    return old if _remove_listed(old, listed) else None
