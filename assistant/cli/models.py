"""`assistant models list|promote|rollback|diff`: the versions of a models directory."""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo, timed

_models = click.option(
    "--models",
    "models_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Models directory (default: the user data directory's models/).",
)


def _store(models_dir, write: bool = True):
    """The models directory as a ModelStore; one of the older shape becomes version 1 (when
    it cannot be written, reading commands (`write` False) see it as version 1 as it is)."""
    from pathlib import Path

    from assistant.errors import ModelError
    from assistant.paths import user_home
    from assistant.versions import ModelStore, has_models

    path = Path(models_dir) if models_dir else user_home() / "models"
    if not has_models(path):
        raise ModelError(
            f"{path}: no models there. Run `assistant demo --no-chat`, or pass --models DIR."
        )
    store = ModelStore(path)
    try:
        store.ensure()
    except OSError as exc:
        if not write:
            return store
        raise ModelError(
            f"{path}: cannot be written ({exc.strerror}), so it cannot hold versions; it is "
            "used as it is (version 1). Copy it somewhere writable to keep versions."
        ) from None
    return store


@cli.group("models")
def models_group() -> None:
    """The versions of a models directory: list, promote, roll back, compare.

    Example:

        assistant models list --json
    """


def _pct(value) -> str:
    return "  n/a" if value is None else f"{100 * value:5.1f}"


@models_group.command("list")
@_models
@click.option("--json", "as_json", is_flag=True, help='Print {"current": ID, "versions": [...]}.')
@timed
def list_cmd(models_dir, as_json) -> None:
    """List the versions, the current one marked, with their scores on the frozen exam.

    Example:

        assistant models list --models models/
    """
    store = _store(models_dir, write=False)
    versions = store.list()
    current = store.current_id()
    if as_json:
        click.echo(json.dumps({"current": current, "versions": [v.to_json() for v in versions]}))
        return
    echo(f"models directory {store.path}: current version {current}")
    echo(f"  {'id':>4} {'created':<25} {'parent':>6} {'source':<9} {'gate':<8} "
         f"{'acc':>5} {'mF1':>5} {'oos':>5} {'size MB':>8}")  # fmt: skip
    for v in versions:
        gate = {None: "-", True: "passed", False: "refused"}[v.promoted]
        if v.forced:
            gate = "forced"
        mark = "*" if v.current else " "
        echo(
            f"{mark} {v.id:>4} {v.created:<25} {v.parent or '-':>6} {v.source:<9} {gate:<8} "
            f"{_pct(v.metrics.get('accuracy'))} {_pct(v.metrics.get('macro_f1'))} "
            f"{_pct(v.metrics.get('oos_recall'))} {v.size_bytes / 1e6:8.1f}"
        )


@models_group.command("promote")
@click.argument("version_id")
@_models
@click.option(
    "--force", is_flag=True, help="Promote a version the gate refused (recorded as forced)."
)
@timed
def promote_cmd(version_id, models_dir, force) -> None:
    """Make VERSION_ID the current version (atomically; running chats pick it up).

    A version the retraining gate refused needs --force, and is recorded as forced.

    Example:

        assistant models promote 3
    """
    from assistant.errors import ModelError

    store = _store(models_dir)
    gate = store.manifest(version_id).get("gate") if version_id in store.ids() else None
    refused = isinstance(gate, dict) and not gate.get("passed", True)
    if refused and not force:
        raise ModelError(
            f"version {version_id} was refused by the gate ({'; '.join(gate.get('reasons', []))}). "
            "Promote it anyway with --force (recorded)."
        )
    old = store.promote(version_id, forced=refused)
    echo(f"current version: {version_id} (was {old})")


@models_group.command("rollback")
@_models
@timed
def rollback_cmd(models_dir) -> None:
    """Go back to the version that was current before this one.

    Example:

        assistant models rollback
    """
    store = _store(models_dir)
    old, new = store.rollback()
    echo(f"current version: {new} (was {old})")


@models_group.command("diff")
@click.argument("a")
@click.argument("b")
@_models
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@timed
def diff_cmd(a, b, models_dir, as_json) -> None:
    """Compare versions A and B intent by intent (F1 on the frozen exam).

    Example:

        assistant models diff 1 2
    """
    store = _store(models_dir, write=False)
    d = store.diff(a, b)
    if as_json:
        click.echo(json.dumps(d))
        return
    if not d["same_exam"]:
        echo(
            "note: the two versions were not scored on the same exam (or one was never "
            "scored): the figures are not comparable"
        )
    for vid in (a, b):
        m = d["metrics"][vid]
        echo(
            f"version {vid}: accuracy {_pct(m.get('accuracy'))}, macro-F1 "
            f"{_pct(m.get('macro_f1'))}, oos recall {_pct(m.get('oos_recall'))}"
        )
    echo(f"{'intent':<32} {'n':>4} {'F1 ' + a:>8} {'F1 ' + b:>8} {'change':>7}")
    rows = sorted(d["per_intent"], key=lambda r: r["change"] if r["change"] is not None else 0)
    for r in rows:
        change = "" if r["change"] is None else f"{100 * r['change']:+7.1f}"
        echo(
            f"{r['intent'][:32]:<32} {r['n'] if r['n'] is not None else '-':>4} "
            f"{_pct(r['f1_a']):>8} {_pct(r['f1_b']):>8} {change:>7}"
        )
