"""`assistant ask`: one turn (or a batch file of them), non-interactively, logged like any
other turn."""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo, timed
from assistant.cli.options import db_option, kb_option, models_option


@cli.command("ask")
@click.argument("message", required=False)
@click.option(
    "--batch",
    "batch",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Answer every message of FILE (one per line, or JSON lines "
    '{"text", "conversation_id"?}; - reads stdin), models loaded once.',
)
@click.option(
    "--conversation",
    "conversation_id",
    default=None,
    help="Continue this conversation id (default: start a new one).",
)
@models_option()
@kb_option()
@db_option()
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object (one per line with --batch)."
)
@timed
def ask_cmd(message, batch, conversation_id, models, kb_dir, db, as_json) -> None:
    """Answer one customer MESSAGE (or every message of --batch FILE) and log the turns.

    Prints the reply (or, with --json, {"reply", "source", "intent", "confidence",
    "citations", "candidates", "latency_ms", "conversation_id", "turn_id", "reply_turn_id",
    ...}: "turn_id" is the customer's logged turn, "reply_turn_id" the reply's). Pass the
    printed conversation id back with --conversation to ask a follow-up.

    With --batch FILE, one line of output per message (with --json, one JSON object per line,
    the keys above). FILE holds one message per line, each a new conversation, or JSON lines
    {"text": ..., "conversation_id": ...}: lines with the same conversation id are turns of one
    conversation, in file order (the id is the log's, as with --conversation); a line without
    one starts a new conversation. The whole file is checked first: a bad line stops the run
    before anything is answered, naming FILE:LINE and the value.

    The reply is printed only once the exchange is stored: in the log, or, when the log stays
    busy, is read-only or full, in the spool file beside it (said on stderr; written to the
    log the next time the assistant starts). Otherwise the command fails and prints no reply.

    Example:

        assistant ask "where is my order?" --json

        assistant ask --batch messages.jsonl --json > replies.jsonl
    """
    from assistant.errors import AssistantError, ConfigError
    from assistant.limits import is_blank
    from assistant.redact import check_conversation_id
    from assistant.service import open_service
    from assistant.untrusted import clean

    if batch is not None:
        if message is not None or conversation_id:
            raise ConfigError(
                "--batch FILE answers the messages in FILE: give no MESSAGE or --conversation "
                'with it (put "conversation_id" on the JSON lines instead).'
            )
        _ask_batch(batch, models, kb_dir, db, as_json)
        return
    if message is None:
        raise ConfigError(
            'Give a MESSAGE to answer, e.g. assistant ask "where is my order?", or --batch FILE.'
        )
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


def _ask_batch(path: str, models, kb_dir, db, as_json: bool) -> None:
    """`ask --batch`: check the whole file, load the models once, answer line by line."""
    import sys

    from assistant.batch import answer_batch, read_batch
    from assistant.errors import AssistantError
    from assistant.service import open_service

    messages = read_batch("<stdin>", sys.stdin) if path == "-" else read_batch(path)
    svc = open_service(models, kb_dir, db)
    svc.listen(lambda notice: echo(f"assistant: {notice}", err=True))
    try:
        for m, reply in answer_batch(svc, messages):
            if as_json:  # json.dumps escapes every control and non-ASCII character
                click.echo(json.dumps(reply.to_json()))
                continue
            shown = (
                "(this conversation is with a human agent; the assistant stays quiet)"
                if reply.source == "muted"
                else reply.reply
            )
            echo(
                f"[line {m.line} · {reply.source} · intent {reply.intent} "
                f"({reply.confidence:.2f}) · conversation {reply.conversation_id}]"
            )
            echo(f"{shown}\n")
    except BaseException:
        try:
            svc.close()
        except AssistantError as exc:
            echo(f"assistant: {exc}", err=True)
        raise
    svc.close()
