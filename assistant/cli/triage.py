"""`assistant triage`: the agents' Textual console over the conversation log."""

from __future__ import annotations

import os
from pathlib import Path

import click

from assistant.cli import cli, echo, timed

AGENT_ENV = "ASSISTANT_AGENT"  # the agent's name when --agent is not given


@cli.command("triage")
@click.option(
    "--db",
    "db_path",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Conversation log (SQLite). Default: in the user data directory, as `ask` uses.",
)
@click.option(
    "--models",
    "models_dir",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Trained models for suggested replies and intent labels: the current version, "
    "followed while the console is open (`assistant models promote` / `rollback`). Default: "
    "the user data directory's models/ (and kb/), as `ask` uses them; with none there the "
    "Assist pane says so and the labels come from the log.",
)
@click.option(
    "--kb",
    "kb_dir",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Knowledge-base index: its passages are shown with suggestions (needs models). "
    "Default: the user data directory's kb/ when its models are used.",
)
@click.option(
    "--agent",
    metavar="NAME",
    default=None,
    help=f"Your name as customers and other agents see it. Default: ${AGENT_ENV}, else $USER.",
)
@timed
def triage(
    db_path: Path | None, models_dir: Path | None, kb_dir: Path | None, agent: str | None
) -> None:
    """Work the ticket queue: claim, reply, correct intents, review the bot's doubtful turns.

    Panes: 1 Queue, 2 Conversation, 3 Assist, 4 Review inbox. Keys (off while typing):
    c claim, r reply, s use a suggestion, n internal note, i correct an intent, g / b rate a
    bot reply, p priority, h hand back, x close, / filter, m / u / a mine / unassigned / all,
    : or ctrl+p command palette, F1 or ? help, q quit.

    Example:

        assistant triage --agent ana --models ~/models --db ~/support/conversations.db
    """
    from assistant.cli.options import data_dir_models
    from assistant.errors import ConfigError
    from assistant.paths import user_home
    from assistant.tui.triage import TriageApp, open_desk

    name = agent or os.environ.get(AGENT_ENV) or os.environ.get("USER") or ""
    if not name.strip():
        raise ConfigError(f"Who are you? Pass --agent NAME or set ${AGENT_ENV}.")
    db = db_path or user_home() / "conversations.db"
    models_dir, kb_dir = data_dir_models(models_dir, kb_dir)
    desk = open_desk(db, agent=name, models_dir=models_dir, kb_dir=kb_dir)
    app = TriageApp(desk)
    try:
        app.run()
    finally:
        desk.close()
    if app.return_code:  # a crash: its short report (no customer text) is printed already
        raise SystemExit(app.return_code)
    if app.failures:
        echo(
            f"assistant: {app.failures} thing(s) failed (shown on screen); the last: "
            f"{app.last_failure}",
            err=True,
        )
