"""`assistant chat`: the Textual terminal chat over the real backend."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli import cli, echo, timed
from assistant.cli.options import db_option, kb_option, models_option

CUSTOMER_FILE = "customer-id"  # in the user data directory: who `assistant chat` is by default


def default_customer() -> str:
    """The customer id of this user's chats: kept in the user data directory, made on first use
    (so ctrl+o lists the same conversations after a restart, and nobody else's)."""
    from assistant.log import new_id
    from assistant.paths import user_home

    path = user_home() / CUSTOMER_FILE
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        kept = ""
    if kept:
        return kept
    customer = new_id()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(customer + "\n", encoding="utf-8")
    except OSError:
        pass  # a read-only home: this chat still has an id of its own, for this run
    return customer


def run_chat_app(backend, app=None) -> None:
    """Run the chat over an open `AssistantService` and close it; exit non-zero on any failure.

    `app` is the `ChatApp` to run (default: a new one over `backend`).

    What the chat told the user (a busy log, an exchange spooled, a damaged log set aside) is
    printed again on stderr once the screen is gone. The command fails (exit status 1) when the
    app crashed, when anything failed during the chat (a reply, a read, the models), and when a
    queued write (a rating, a hand-back) was not saved.
    """
    from assistant.errors import AssistantError
    from assistant.tui.app import ChatApp

    app = app if app is not None else ChatApp(backend)
    close_error: AssistantError | None = None
    try:
        app.run()
    finally:
        try:
            backend.close()
        except AssistantError as exc:
            close_error = exc
    for notice in app.notices:
        echo(f"assistant: {notice}", err=True)
    if close_error is not None:
        raise close_error
    if app.return_code:  # a crash: its short report (no customer text) is printed already
        raise SystemExit(app.return_code)
    if app.failures:
        raise click.ClickException(
            f"{app.failures} thing(s) failed during the chat (shown on screen); the last: "
            f"{app.last_failure}"
        )


@cli.command("chat")
@models_option("models_dir", must_exist=True)
@kb_option(must_exist=True)
@db_option("db_path", as_path=True)
@click.option(
    "--customer",
    metavar="ID",
    default=None,
    help="Whose chat this is: ctrl+o lists only this customer's conversations. Default: an id "
    "kept in the user data directory (customer-id), made on first use.",
)
@timed
def chat(
    models_dir: Path | None, kb_dir: Path | None, db_path: Path | None, customer: str | None
) -> None:
    """Chat with the assistant in the terminal.

    The side panel shows why it answered. Keys: ctrl+g / ctrl+b rate the last reply,
    F2 hands the conversation to a human, ctrl+n starts a new one, ctrl+o browses past
    conversations (only this customer's), F1 lists every key, ctrl+p opens the command
    palette, ctrl+q quits. An agent's reply appears here with the agent's name; while an agent
    has the conversation the assistant stays quiet.

    Example:

        assistant chat --db ~/support/conversations.db
    """
    from assistant.service import open_service

    run_chat_app(
        open_service(
            models_dir, kb_dir, db_path, background=True, customer=customer or default_customer()
        )
    )
