"""`assistant chat`: the Textual terminal chat over the real backend."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli import cli


@cli.command("chat")
@click.option(
    "--models",
    "models_dir",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Directory of the trained models. Default: the user data directory.",
)
@click.option(
    "--kb",
    "kb_dir",
    metavar="DIR",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Knowledge-base index directory. Default: the user data directory.",
)
@click.option(
    "--db",
    "db_path",
    metavar="PATH",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Conversation log (SQLite, created if missing). Default: in the user data directory.",
)
def chat(models_dir: Path | None, kb_dir: Path | None, db_path: Path | None) -> None:
    """Chat with the assistant in the terminal.

    The side panel shows why it answered. Keys: ctrl+g / ctrl+b rate the last reply,
    F2 hands the conversation to a human, ctrl+n starts a new one, ctrl+o browses past
    conversations, F1 lists every key, ctrl+p opens the command palette, ctrl+q quits.

    Example:

        assistant chat --db ~/support/conversations.db
    """
    from assistant.service import open_service
    from assistant.tui.app import ChatApp

    backend = open_service(models_dir, kb_dir, db_path, background=True)
    app = ChatApp(backend)
    try:
        app.run()
    finally:
        backend.close()
    if app.return_code:  # a crash: its short report (no customer text) is printed already
        raise SystemExit(app.return_code)
