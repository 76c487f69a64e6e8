"""`assistant retrain`: learn from the log, promote only what the gate lets through."""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo, timed
from assistant.cli.options import db_option, models_option


@cli.command("retrain")
@models_option("models_dir")
@db_option(help="Conversation log to learn from (default: the user data directory's, if any).")
@click.option(
    "--data",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Base training data (intent CSV or dialogues JSONL); needed the first time. Repeatable.",
)
@click.option(
    "--eval",
    "eval_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Evaluation file (default: the one frozen with the first retraining).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (see the README).")
@click.option("--force", is_flag=True, help="Promote even if the gate refuses (recorded).")
@timed
def retrain_cmd(models_dir, db, data, eval_path, as_json, force) -> None:
    """Train a candidate from the log and the base data; promote it only if it is no worse.

    Agents' corrections and confirmations become labels; the bot's own messages never become
    agent replies. The candidate and the current version sit the same frozen exam; the
    candidate is promoted only when macro-F1, every well-evaluated intent and out-of-scope
    recall hold up (settings in MODELS/retrain.json). Otherwise the current version stays and
    the reasons name the intents that would regress and the corrections that pulled them.
    Every candidate is kept as a version (`assistant models list`).

    Example:

        assistant retrain --data intents.csv --eval test.csv --json
    """
    from pathlib import Path

    from assistant.paths import user_home
    from training.retrain import RetrainConfig, read_settings, retrain

    home = user_home()
    models = Path(models_dir) if models_dir else home / "models"
    if db is None and (home / "conversations.db").is_file():
        db = str(home / "conversations.db")
    settings = read_settings(models)
    cfg = RetrainConfig(
        models=str(models), db=db, data=list(data), eval=eval_path, force=force, **settings
    )
    # Progress goes to stderr with --json, so stdout is one JSON object.
    result = retrain(cfg, log=lambda m: echo(m, err=as_json))
    if as_json:
        click.echo(json.dumps(result.to_json()))
        return
    verdict = "promoted" if result.promoted else "not promoted"
    echo(f"\ncandidate version {result.version}: {verdict}; current version {result.current}")
    for reason in result.reasons:
        echo(f"  - {reason}")
    cur, cand = result.metrics.get("current", {}), result.metrics.get("candidate", {})
    for key in ("accuracy", "macro_f1", "oos_recall", "ranker_recall_at_1"):
        a, b = cur.get(key), cand.get(key)
        fa = "n/a" if a is None else f"{a:.4f}"
        fb = "n/a" if b is None else f"{b:.4f}"
        echo(f"  {key:>20}: {fa} -> {fb}")
