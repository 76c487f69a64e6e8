"""Writing trained models: weights, manifest, metrics and the evaluation report."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.manifest import library_versions, write_manifest
from training.data import IntentExample


def _fresh_dir(out: Path) -> Path:
    """A temporary sibling directory; the caller renames it over `out` when complete."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def _commit_dir(tmp: Path, out: Path) -> None:
    """Replace `out` by the finished `tmp` so a failed run never leaves a half-written model."""
    if out.exists():
        old = out.with_name(out.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)


def save_intent_model(
    out: Path,
    encoder,
    head,
    labels: list[str],
    threshold: float,
    cfg: dict,
    base_model: str,
    data_fingerprint: dict,
    metrics: dict,
    train_time: float,
    trained_at: str,
    val_examples: list[IntentExample],
) -> dict:
    """Save encoder + head + manifest + report to `out` atomically; returns the manifest."""
    from safetensors.torch import save_file

    from training.report import write_intent_report

    tmp = _fresh_dir(out)
    encoder.save(tmp, max_length=cfg["max_length"])
    save_file(
        {
            "weight": head.weight.detach().float().contiguous(),
            "bias": head.bias.detach().float().contiguous(),
        },
        str(tmp / "head.safetensors"),
    )
    manifest = write_manifest(
        tmp,
        "intent",
        base_model=base_model,
        labels=labels,
        oos_label=cfg["oos_label"],
        threshold=threshold,
        config=cfg,
        data_fingerprint=data_fingerprint,
        metrics=metrics,
        libraries=library_versions(),
        train_time_s=round(train_time, 1),
        trained_at=trained_at,
    )
    write_intent_report(tmp, val_examples, oos_label=cfg["oos_label"], title="validation")
    _commit_dir(tmp, out)
    return manifest


def save_ranker_model(
    out: Path,
    encoder,
    lexical,
    lexical_weight: float,
    train_dialogues,
    cfg: dict,
    base_model: str,
    data_fingerprint: dict,
    metrics: dict,
    train_time: float,
    trained_at: str,
) -> dict:
    """Save encoder + lexical towers (None: none) + response bank (with its embeddings,
    fused as `assistant.ranker.ResponseRanker` scores) + manifest atomically."""
    import json

    import numpy as np

    from training.bank import build_bank

    tmp = _fresh_dir(out)
    encoder.save(tmp, max_length=cfg["max_context_length"])
    bank = build_bank(train_dialogues)
    with open(tmp / "bank.jsonl", "w") as fh:
        for e in bank:
            fh.write(json.dumps(e) + "\n")
    texts = [e["text"] for e in bank]
    emb = encoder.encode(texts, max_length=cfg["max_reply_length"])
    if lexical is not None:
        from assistant.ranker import fuse

        lexical.save(tmp)
        emb = fuse(emb, lexical.encode_replies(texts), lexical_weight)
    np.save(tmp / "bank_embeddings.npy", emb.astype(np.float32), allow_pickle=False)
    manifest = write_manifest(
        tmp,
        "ranker",
        base_model=base_model,
        config=cfg,
        bank_size=len(bank),
        lexical_weight=lexical_weight if lexical is not None else 0.0,
        data_fingerprint=data_fingerprint,
        metrics=metrics,
        libraries=library_versions(),
        train_time_s=round(train_time, 1),
        trained_at=trained_at,
    )
    (tmp / "metrics.json").write_text(
        json.dumps({"validation": metrics.get("validation")}, indent=2)
    )
    _commit_dir(tmp, out)
    return manifest
