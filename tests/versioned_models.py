"""A models directory with two versions whose suggestions differ, built from the tiny session
models in a fraction of a second (no training): version 2 is version 1 with every reply of the
bank marked "[v2] ", what a retrained ranker with new agent replies would look like."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from assistant.versions import ModelStore, link_tree
from kb.manifest import MANIFEST_FILE, file_checksums

MARK = "[v2] "  # how version 2's replies begin


def versioned_models(root: Path, intent_dir: Path, ranker_dir: Path) -> Path:
    """`root/models` with versions 1 (current) and 2 (its replies marked `MARK`)."""
    models = root / "models"
    shutil.copytree(intent_dir, models / "intent")
    shutil.copytree(ranker_dir, models / "ranker")
    store = ModelStore(models)
    store.ensure()  # the older shape becomes version 1
    tmp = store.new_version()
    link_tree(store.version_dir("1") / "intent", tmp / "intent")
    # A copy, not links: version 1's files must stay as they are.
    shutil.copytree(store.version_dir("1") / "ranker", tmp / "ranker")
    mark_replies(tmp / "ranker")
    assert store.add_version(tmp, {"parent": "1", "source": "test"}) == "2"
    return models


def mark_replies(ranker: Path) -> None:
    """Prefix every bank reply with `MARK` and record the bank's new checksum."""
    bank = ranker / "bank.jsonl"
    rows = [json.loads(line) for line in bank.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        row["text"] = MARK + row["text"]
    bank.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    manifest = json.loads((ranker / MANIFEST_FILE).read_text(encoding="utf-8"))
    if "bank.jsonl" in (manifest.get("checksums") or {}):
        manifest["checksums"].update(file_checksums(ranker, ["bank.jsonl"]))
    (ranker / MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
