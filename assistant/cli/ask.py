"""`assistant ask`: one turn, non-interactively, logged like any other turn."""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo, timed


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
@timed
def ask_cmd(message, conversation_id, models, kb_dir, db, as_json) -> None:
    """Answer one customer MESSAGE and log the turn.

    Prints the reply (or, with --json, {"reply", "source", "intent", "confidence",
    "citations", "candidates", "latency_ms", "conversation_id", ...}). Pass the printed
    conversation id back with --conversation to ask a follow-up.

    The reply is printed only once the exchange is stored: in the log, or, when the log stays
    busy, is read-only or full, in the spool file beside it (said on stderr; written to the
    log the next time the assistant starts). Otherwise the command fails and prints no reply.

    Example:

        assistant ask "where is my order?" --json
    """
    from assistant.errors import AssistantError, ConfigError
    from assistant.limits import is_blank
    from assistant.redact import check_conversation_id
    from assistant.service import open_service
    from assistant.untrusted import clean

    # Undecodable bytes in argv arrive as lone surrogates: U+FFFD, and the turn is answered.
    message = clean(message)
    if is_blank(message):
        raise ConfigError(
            "MESSAGE is empty (only spaces or invisible characters): type what the customer "
            'asks, e.g. "where is my order?"'
        )
    if conversation_id:
        check_conversation_id(conversation_id)  # before anything is opened or written
    svc = open_service(models, kb_dir, db)
    svc.listen(lambda notice: echo(f"assistant: {notice}", err=True))
    try:
        cid = conversation_id or svc.new_conversation(channel="cli")
        reply = svc.respond(cid, message)
    except BaseException:
        try:
            svc.close()
        except AssistantError as exc:  # the first error is the one to report; say this too
            echo(f"assistant: {exc}", err=True)
        raise
    svc.close()  # raises when a queued write failed: the exit status shows it
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
