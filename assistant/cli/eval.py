"""`assistant eval dialogues` (replay held-out dialogues) and `assistant calibrate`."""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo, eval_group, timed
from assistant.cli.options import kb_option, models_option


def _paths(models, kb_dir):
    """`--models` and `--kb`, defaulting as `ask` does (the user data directory)."""
    from pathlib import Path

    from assistant.errors import ModelError
    from assistant.paths import user_home
    from assistant.versions import has_models

    home = user_home()
    models = Path(models) if models else home / "models"
    if not has_models(models):
        raise ModelError(
            f"No trained models in {models}. Run `assistant demo --no-chat` to train the demo "
            "models, or pass --models DIR with `intent/` and `ranker/` inside (or versions)."
        )
    if kb_dir is None and (home / "kb" / "manifest.json").is_file():
        kb_dir = home / "kb"
    return models, kb_dir


@eval_group.command("dialogues")
@models_option()
@kb_option()
@click.option(
    "--data",
    required=True,
    type=click.Path(dir_okay=False),
    help="Held-out dialogues (JSONL, the training format).",
)
@click.option(
    "--no-calibration",
    is_flag=True,
    help="Answer with the config defaults even when the models carry a calibration.",
)
@click.option(
    "--turns",
    "turns_out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write every replayed turn (reply, source, match, detectors) to this JSONL file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@timed
def eval_dialogues_cmd(models, kb_dir, data, no_calibration, turns_out, as_json) -> None:
    """Replay held-out dialogues through the assistant and measure what it sends.

    Each dialogue's customer turns go, in order, through the real engine, policy and a
    temporary conversation log; each reply is compared with the agent's actual next reply.
    Prints coverage per source, answer precision, action-claim, ungrounded-specifics and
    chat-unfit rates among the answers, clarify, handoff and loop rates (docs/evaluation.md
    defines each, and the match). With --json: {"dialogues", "turns", "coverage",
    "answered", "precision", "precision_by_source", "claims", "kb_quoted_claims",
    "ungrounded", "unfit", "clarify", "fallback", "handoff", "loop", "thresholds",
    "calibrated", ...}.

    Example:

        assistant eval dialogues --data dialogues_test.jsonl --json
    """
    from training.replay import evaluate_dialogues, turn_rows

    models, kb_dir = _paths(models, kb_dir)
    metrics, results = evaluate_dialogues(
        models,
        data,
        kb_dir,
        calibration=not no_calibration,
        log=lambda m: echo(m, err=True),
    )
    if turns_out:
        from assistant.untrusted import json_dumps

        with open(turns_out, "w", encoding="utf-8") as fh:
            for row in turn_rows(results):
                fh.write(json_dumps(row) + "\n")
    if as_json:
        click.echo(json.dumps(metrics))
        return
    echo(format_dialogue_metrics(metrics))


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def format_dialogue_metrics(m: dict) -> str:
    """`eval dialogues` as text."""
    cov = ", ".join(f"{k} {_pct(v)}" for k, v in m["coverage"].items())
    by = m["precision_by_source"]
    return "\n".join(
        [
            f"{m['dialogues']} dialogues, {m['turns']} customer turns "
            f"({'calibrated' if m['calibrated'] else 'config defaults'})",
            f"coverage        {cov}",
            f"answered        {_pct(m['answered'])} ({m['answers']} answers)",
            f"precision       {_pct(m['precision'])} of {m['judged_answers']} judged answers "
            f"(ranker {_pct(by['ranker'])}, kb {_pct(by['kb'])})",
            f"action claims   {_pct(m['claims'])} of answers (and {_pct(m['kb_quoted_claims'])} "
            "in sentences quoted from the KB's articles)",
            f"ungrounded      {_pct(m['ungrounded'])} of answers",
            f"chat-unfit      {_pct(m['unfit'])} of answers",
            f"clarify         {_pct(m['clarify'])} of turns; fallback {_pct(m['fallback'])}",
            f"handoff         {_pct(m['handoff'])} of dialogues",
            f"loops           {_pct(m['loop'])} of dialogues",
        ]
    )


@cli.command("calibrate")
@models_option()
@kb_option()
@click.option(
    "--data",
    required=True,
    type=click.Path(dir_okay=False),
    help="Validation dialogues (JSONL), not the ones the models were trained or tested on.",
)
@click.option(
    "--target",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.9,
    show_default=True,
    help="Answer precision the thresholds must reach on the validation turns.",
)
@click.option("--dry-run", is_flag=True, help="Print the choice without writing it.")
@click.option("--json", "as_json", is_flag=True, help="Print the calibration as JSON.")
@timed
def calibrate_cmd(models, kb_dir, data, target, dry_run, as_json) -> None:
    """Choose the policy's thresholds on validation dialogues for a target answer precision.

    Replays every validation turn, judges each possible reply against the agent's actual
    one, and picks the reply and KB thresholds (and the clarify mass) that answer the most
    turns at that precision. Writes MODELS/calibration/manifest.json, which the assistant
    then uses instead of the config defaults (settings in config.json still win). Prints the
    chosen thresholds and the coverage/precision table they buy, with the share of
    dialogues each choice hands to a person.

    Example:

        assistant calibrate --data dialogues_val.jsonl --target 0.9
    """
    from training.calibrate import CalibrateConfig, calibrate, format_report

    models, kb_dir = _paths(models, kb_dir)
    cfg = CalibrateConfig(
        models=str(models), data=data, kb=str(kb_dir) if kb_dir else None, target=target
    )
    fields = calibrate(cfg, log=lambda m: echo(m, err=True), save=not dry_run)
    if as_json:
        click.echo(json.dumps(fields))
        return
    echo(format_report(fields))
