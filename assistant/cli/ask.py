"""`assistant ask`: one turn, non-interactively, logged like any other turn."""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo


@cli.command("ask")
@click.argument("message")
@click.option(
    "--conversation",
    "conversation_id",
    default=None,
    help="Continue this conversation id (default: start a new one).",
)
@click.option(
    "--models",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory with intent/ and ranker/ (default: the user data directory).",
)
@click.option(
    "--kb",
    "kb_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Knowledge-base index directory (default: the user data directory's kb/).",
)
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    help="Conversation log SQLite file (default: the user data directory's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def ask_cmd(message, conversation_id, models, kb_dir, db, as_json) -> None:
    """Answer one customer MESSAGE and log the turn.

    Prints the reply (or, with --json, {"reply", "source", "intent", "confidence",
    "citations", "candidates", "latency_ms", "conversation_id", ...}). Pass the printed
    conversation id back with --conversation to ask a follow-up.

    Example:

        assistant ask "where is my order?" --json
    """
    from assistant.errors import ConfigError
    from assistant.redact import check_conversation_id
    from assistant.service import open_service
    from assistant.untrusted import clean

    # Undecodable bytes in argv arrive as lone surrogates: U+FFFD, and the turn is answered.
    message = clean(message)
    if not message.strip():
        raise ConfigError(
            'MESSAGE is empty: type what the customer asks, e.g. "where is my order?"'
        )
    if conversation_id:
        check_conversation_id(conversation_id)  # before anything is opened or written
    svc = open_service(models, kb_dir, db)
    try:
        cid = conversation_id or svc.new_conversation(channel="cli")
        reply = svc.respond(cid, message)
    finally:
        svc.close()
    if as_json:  # json.dumps escapes every control and non-ASCII character: safe to print
        click.echo(json.dumps(reply.to_json()))
        return
    # The reply can quote the customer (filled slots) and the KB: printed inert.
    if reply.source == "muted":
        echo("(this conversation is with a human agent; the assistant stays quiet)")
    else:
        echo(reply.reply)
        for c in reply.citations[:1]:
            echo(f"\n[source: {c.heading} ({c.source})]")
    echo(
        f"\n-- {reply.source} · intent {reply.intent} ({reply.confidence:.2f}) · "
        f"conversation {cid} · {reply.latency_ms:.0f} ms",
        err=True,
    )
