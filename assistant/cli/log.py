"""`assistant log ...`: the conversation log for agents and retraining."""

from __future__ import annotations

import click

from assistant.cli import cli, echo, timed
from assistant.cli.options import db_option


def _db_path(db):
    from pathlib import Path

    from assistant.errors import LogError
    from assistant.paths import user_home

    path = Path(db) if db else user_home() / "conversations.db"
    if not path.is_file():
        raise LogError(f"{path}: no conversation log there. Chat first, or pass --db PATH.")
    return path


def _open(db):
    """Open the log for a command: say what opening found, write any spooled exchanges in."""
    from assistant.log import ConversationLog, Spool

    log = ConversationLog(_db_path(db))
    for notice in log.notices:  # a damaged log was set aside
        echo(f"assistant: {notice}", err=True)
    message = Spool.beside(log.path).replay(log).message()
    if message:
        echo(f"assistant: {message}", err=True)
    return log


_db = db_option()


@cli.group("log")
def log_group() -> None:
    """Work with the conversation log (SQLite).

    Example:

        assistant log export --out retrain/
    """


@log_group.command("export")
@_db
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@timed
def export_cmd(db, out) -> None:
    """Turn logged conversations back into training data.

    Writes dialogues.jsonl (for `train ranker` and `train intent`) and intents.csv. Agent
    corrections win over predictions; replies rated bad are dropped (or replaced by the
    agent's corrected reply); only confident, unchallenged predicted intents become labels.

    Example:

        assistant log export --out retrain/

        assistant train intent --data retrain/intents.csv --out models/intent-v2
    """
    from assistant.errors import LogError
    from assistant.log import export_training_data

    with _open(db) as log:
        if log.set_aside is not None:
            raise LogError(
                f"Nothing exported: the log was damaged and set aside as {log.set_aside} (see "
                "above). Export from what `sqlite3 ... .recover` gets back, or from a backup."
            )
        counts = export_training_data(log, out)
    for k, v in counts.items():
        echo(f"{k:>18}: {v}")
    echo(f"written to {out}")


@log_group.command("hand-back")
@click.argument("conversation_id")
@_db
@timed
def hand_back_cmd(conversation_id, db) -> None:
    """An agent hands a conversation back to the assistant (closes its open tickets).

    Example:

        assistant log hand-back 3f2a9c0e...
    """
    from assistant.errors import LogError

    with _open(db) as log:
        if log.status(conversation_id) is None:
            raise LogError(f"no conversation {conversation_id!r} in {log.name}.")
        log.hand_back(conversation_id)
    echo(f"conversation {conversation_id} is back with the assistant")


@log_group.command("correct")
@click.argument("turn_id", required=False)
@click.option("--intent", default=None, metavar="LABEL", help="The right intent of the turn.")
@click.option(
    "--agent",
    default=None,
    metavar="NAME",
    help="Who corrects (default: $ASSISTANT_AGENT, else your user name).",
)
@click.option(
    "--file",
    "csv_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A CSV of corrections with the header turn_id,intent,agent (agent may be empty).",
)
@click.option(
    "--models",
    type=click.Path(file_okay=False),
    default=None,
    help="Check every label against this model directory's intent labels.",
)
@_db
@timed
def correct_cmd(turn_id, intent, agent, csv_file, models, db) -> None:
    """Correct the intent of a customer's message: stored with the agent's name and time.

    The export (`assistant log export`) prefers a correction over the prediction, so the
    next training learns it. Give TURN_ID and --intent for one turn (ids are in `tickets
    show` and `ask --json`), or --file for a batch: all of a file's rows are stored, or,
    when one is wrong (the message names the file, line and value), none.

    Example:

        assistant log correct 3f2a9c0e... --intent missing_package --agent ana

        assistant log correct --file corrections.csv --models models
    """
    import getpass
    import os

    from assistant.errors import TicketError
    from assistant.tickets import Tickets, model_labels, read_corrections

    if csv_file and (turn_id or intent):
        raise TicketError("give TURN_ID and --intent, or --file CSV, not both.")
    if not csv_file and not (turn_id and intent):
        raise TicketError(
            "give TURN_ID and --intent LABEL (one turn), or --file CSV (columns "
            "turn_id,intent,agent)."
        )
    if not agent:
        agent = os.environ.get("ASSISTANT_AGENT") or ""
        try:
            agent = agent or getpass.getuser()
        except (OSError, KeyError):  # no user name in this environment
            agent = ""
    labels = model_labels(models) if models else None
    if csv_file:
        rows, where = read_corrections(csv_file, default_agent=agent)
    else:
        rows, where = [(turn_id, intent, agent)], None
    with _open(db) as log:
        ids = Tickets(log).correct_many(rows, labels=labels, where=where)
    echo(f"{len(ids)} correction(s) stored")
