"""`assistant report`: per model version, how the assistant did, and the knowledge gaps."""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo, timed
from assistant.cli.options import db_option


def _pct(value) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


@cli.command("report")
@click.option(
    "--since",
    default=None,
    metavar="DATE",
    help="Only turns from this date (or ISO time) on, e.g. 2026-11-01.",
)
@db_option()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@timed
def report_cmd(since, db, as_json) -> None:
    """Per model version: conversations, turns, containment, handoff rate, ratings, top
    intents, and the knowledge gaps: clusters of questions that got no good answer.

    Containment is the share of conversations finished without a person. A knowledge gap is
    a group of similar customer questions answered with the fallback, out of scope, a reply
    rated bad, or a handoff: what to write next (a KB article, bank replies, an intent).

    Example:

        assistant report --since 2026-11-01
    """
    from datetime import date, datetime

    from assistant.cli.log import _open
    from assistant.errors import ConfigError
    from assistant.report import build_report

    if since is not None:
        try:
            (datetime if "T" in since else date).fromisoformat(since.rstrip("Z"))
        except ValueError:
            raise ConfigError(
                f"--since {since!r}: give a date (2026-11-01) or an ISO time (2026-11-01T09:00:00)."
            ) from None
    with _open(db) as log:
        report = build_report(log, since)
    if as_json:  # json.dumps escapes every control character: customer text is inert
        click.echo(json.dumps(report))
        return
    if not report["versions"]:
        echo("no answered customer turns in the log" + (f" since {since}" if since else ""))
        return
    for v in report["versions"]:
        echo(
            f"version {v['version']}: {v['conversations']} conversations, {v['turns']} turns, "
            f"containment {_pct(v['containment'])}, handoff rate {_pct(v['handoff_rate'])}, "
            f"ratings +{v['ratings']['good']} / -{v['ratings']['bad']}"
        )
        if v["top_intents"]:
            shown = ", ".join(f"{i['intent']} {i['count']}" for i in v["top_intents"][:5])
            echo(f"  top intents: {shown}")
    echo("\nknowledge gaps (questions that got no good answer), largest first:")
    for g in report["gaps"]:
        why = ", ".join(f"{k} {n}" for k, n in g["why"].items())
        echo(f"  {g['count']:>4}  [{' '.join(g['terms'])}]  ({why})")
        for ex in g["examples"]:
            echo(f"          e.g. {ex[:100]!r}")
