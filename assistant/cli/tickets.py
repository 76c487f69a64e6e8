"""`assistant tickets ...`: the ticket queue for agents and scripts (a shell over
`assistant.tickets`).

Every command opens the log, calls one `Tickets` method and prints the result: `--json` for
scripts (the keys are a contract, see README), else lines made inert (stored text never drives
the terminal). A refused action (another agent has the ticket, it is closed) exits non-zero
with a one-line message.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

import click

from assistant.cli import cli, echo, timed
from assistant.cli.options import db_option

AGENT_ENV = "ASSISTANT_AGENT"  # the agent's name when --agent is not given

_db = db_option()


def _agent_option(required: bool = True):
    return click.option(
        "--agent",
        default=lambda: os.environ.get(AGENT_ENV) or None,
        required=required,
        metavar="NAME",
        help=f"The agent's name (default: ${AGENT_ENV}).",
    )


@contextmanager
def open_tickets(db):
    """The log at `db` (as `assistant log` opens it) and `Tickets` over it with the priority
    rules of the user data directory (priority.toml, when there is one)."""
    from assistant.cli.log import _open
    from assistant.priority import PriorityRules
    from assistant.tickets import Tickets

    rules = PriorityRules.load()
    with _open(db) as log:
        tickets = Tickets(log, rules)
        try:
            yield tickets
        finally:
            tickets.close()


def _dump(obj) -> None:
    from assistant.untrusted import json_dumps

    click.echo(json_dumps(obj))


def _wait(seconds: float) -> str:
    """120 -> "2m", 7300 -> "2h01"."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"


@cli.group("tickets")
def tickets_group() -> None:
    """The agents' ticket queue: list, show, claim, reply, resolve.

    A ticket is opened when the assistant hands a conversation to a human. While it is open
    the bot stays quiet; an agent claims it, replies (the customer's chat shows the reply
    with the agent's name) and resolves it: hand back to the bot, or close.

    Example:

        assistant tickets list --status open
    """


@tickets_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["open", "mine", "closed", "all"]),
    default="open",
    show_default=True,
    help="open, mine (open and claimed by --agent), closed or all.",
)
@click.option(
    "--agent",
    default=None,
    metavar="NAME",
    help=f"Only this agent's tickets (--status mine: default ${AGENT_ENV}).",
)
@_db
@click.option("--json", "as_json", is_flag=True, help='Print {"tickets": [...]}.')
@timed
def list_cmd(status, agent, db, as_json) -> None:
    """List tickets: highest priority first, then the longest wait.

    With --agent only that agent's tickets (--status mine needs it). --json prints
    {"tickets": [{"id", "conversation_id", "status", "priority", "priority_reason", "intent",
    "confidence", "assignee", "created", "waiting_s", "last_customer_text"}]}.

    Example:

        assistant tickets list --status mine --agent ana --json
    """
    from assistant.untrusted import one_line

    if status == "mine" and not agent:
        agent = os.environ.get(AGENT_ENV) or None
    with open_tickets(db) as tickets:
        found = tickets.list(status, agent)
    if as_json:
        _dump({"tickets": [t.to_json() for t in found]})
        return
    if not found:
        echo(f"no {status} tickets" + (f" for {agent}" if agent else ""))
        return
    for t in found:
        intent = f"{t.intent} {t.confidence:.2f}" if t.intent and t.confidence else "-"
        echo(
            f"{t.id:<8} P{t.priority} {_wait(t.waiting_s):>5}  {one_line(intent, 28):<28} "
            f"{one_line(t.assignee or 'unassigned', 12):<12} {one_line(t.last_customer_text, 60)}"
        )
        echo(f"{'':<8} {one_line(t.priority_reason)}")


def _load_engine(models, kb_dir):
    """The dialogue engine for suggestions: --models, else the user data directory's models
    as `ask` uses them (with its KB unless --kb is given); None when there are none (said on
    stderr)."""
    from assistant.assist import NO_MODELS
    from assistant.cli.options import data_dir_models

    models, kb_dir = data_dir_models(models, kb_dir)
    if not models:
        echo(f"assistant: {NO_MODELS}", err=True)
        return None
    from assistant.engine import DialogueEngine

    return DialogueEngine.load(models, kb_dir)


@tickets_group.command("show")
@click.argument("ticket_id")
@_db
@click.option(
    "--models",
    type=click.Path(file_okay=False),
    default=None,
    help="Model directory for suggested replies (default: the data directory's, as `ask`).",
)
@click.option(
    "--kb",
    "kb_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Knowledge-base index for passages (default: the data directory's, with its models).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@timed
def show_cmd(ticket_id, db, models, kb_dir, as_json) -> None:
    """Show a ticket: its conversation, internal notes, suggested replies and KB passages.

    Suggestions come from the ranker over the whole response bank (agent-only entries
    included), with slots filled from the conversation; they need models (--models, or the
    data directory's, as `ask` uses). --json prints
    {"ticket": {...}, "transcript": [{"turn_id", "role", "text", "time", "intent",
    "confidence", "source"}], "suggestions": [{"text", "score", "agent_only"}],
    "passages": [{"article_id", "title", "section", "text", "score"}]}.

    Example:

        assistant tickets show T-48213 --models models --kb kb-index
    """
    from assistant.assist import assist
    from assistant.untrusted import one_line

    with open_tickets(db) as tickets:
        detail = tickets.show(ticket_id)
    engine = _load_engine(models, kb_dir)
    helped = assist(engine, detail.context(), slots=detail.slots())
    if helped.note and engine is not None:
        echo(f"assistant: {helped.note}", err=True)
    if as_json:
        _dump(
            {
                "ticket": detail.ticket.to_json(),
                "transcript": [t.to_json() for t in detail.transcript],
                "suggestions": [s.to_json() for s in helped.suggestions],
                "passages": helped.passages_json(),
            }
        )
        return
    t = detail.ticket
    echo(
        f"ticket {t.id} · {t.status} · P{t.priority} · "
        f"{t.assignee or 'unassigned'} · waiting {_wait(t.waiting_s)}"
    )
    echo(f"priority: {one_line(t.priority_reason)}")
    echo(f"conversation {t.conversation_id} ({detail.conversation_status})")
    echo("")
    for turn in detail.transcript:
        who = {"customer": "customer", "assistant": "bot"}.get(turn.role, turn.role)
        if turn.role == "agent" and turn.agent:
            who = f"agent {turn.agent}"
        extra = ""
        if turn.intent:
            extra = f" [{turn.intent} {turn.confidence or 0:.2f}"
            extra += f" → {turn.corrected_intent}]" if turn.corrected_intent else "]"
        if turn.source:
            extra += f" [{turn.source}]"
        echo(f"{turn.time[11:19]} {one_line(who, 20):>14}: {turn.text} {one_line(extra)}")
        echo(f"{'':>23}turn {turn.turn_id}")
    if detail.notes:
        echo("\ninternal notes (agents only):")
        for note in detail.notes:
            echo(f"  {note.time[:16]} {one_line(note.agent, 20)}: {note.text}")
    if helped.suggestions:
        echo("\nsuggested replies:")
        for i, s in enumerate(helped.suggestions, 1):
            flag = " (agent only)" if s.agent_only else ""
            echo(f"  {i}. {s.score:.2f}{flag} {one_line(s.text)}")
    if helped.passages:
        echo("\nknowledge base:")
        for p in helped.passages:
            echo(f"  {p.score:.2f} {one_line(p.heading)} ({p.article_id})")


@tickets_group.command("claim")
@click.argument("ticket_id")
@_agent_option()
@click.option("--force", is_flag=True, help="Take the ticket over from another agent.")
@_db
@timed
def claim_cmd(ticket_id, agent, force, db) -> None:
    """Claim an open ticket (atomic: of two agents claiming at once, one wins).

    Exits non-zero, naming the holder, when another agent has it.

    Example:

        assistant tickets claim T-48213 --agent ana
    """
    with open_tickets(db) as tickets:
        ticket = tickets.claim(ticket_id, agent, force=force)
    echo(f"ticket {ticket.id} is yours, {ticket.assignee}")


@tickets_group.command("reply")
@click.argument("ticket_id")
@click.argument("text")
@_agent_option()
@_db
@timed
def reply_cmd(ticket_id, text, agent, db) -> None:
    """Send TEXT to the ticket's customer as --agent (claims an unassigned ticket).

    The customer's open chat shows it within a second, with the agent's name.

    Example:

        assistant tickets reply T-48213 "Hi, Ana here. It ships today." --agent ana
    """
    from assistant.untrusted import clean

    with open_tickets(db) as tickets:
        turn_id = tickets.reply(ticket_id, clean(text), agent)
    echo(f"sent to ticket {ticket_id} (turn {turn_id})")


@tickets_group.command("resolve")
@click.argument("ticket_id")
@click.option(
    "--hand-back",
    "how",
    flag_value="hand_back",
    default=True,
    help="Close the ticket and give the conversation back to the bot (default).",
)
@click.option("--close", "how", flag_value="close", help="Close the ticket and the conversation.")
@_agent_option(required=False)
@_db
@timed
def resolve_cmd(ticket_id, how, agent, db) -> None:
    """Resolve a ticket: hand the conversation back to the bot, or close it.

    Example:

        assistant tickets resolve T-48213 --hand-back
    """
    with open_tickets(db) as tickets:
        cid = tickets.resolve(ticket_id, how, agent or "")
    done = "handed back to the bot" if how == "hand_back" else "closed"
    echo(f"ticket {ticket_id} resolved: conversation {cid} {done}")


@tickets_group.command("note")
@click.argument("ticket_id")
@click.argument("text")
@_agent_option()
@_db
@timed
def note_cmd(ticket_id, text, agent, db) -> None:
    """Add an internal note to a ticket (agents only: never shown to the customer).

    Example:

        assistant tickets note T-48213 "refund approved by finance" --agent ana
    """
    from assistant.untrusted import clean

    with open_tickets(db) as tickets:
        tickets.note(ticket_id, clean(text), agent)
    echo(f"note added to ticket {ticket_id}")


@tickets_group.command("priority")
@click.argument("ticket_id")
@click.argument("level", type=click.IntRange(1, 5), required=False)
@_agent_option()
@_db
@timed
def priority_cmd(ticket_id, level, agent, db) -> None:
    """Set a ticket's priority by hand: LEVEL 1 (low) to 5 (critical); none = the rules.

    Example:

        assistant tickets priority T-48213 4 --agent ana
    """
    with open_tickets(db) as tickets:
        tickets.set_priority(ticket_id, level, agent)
        ticket = tickets.get(ticket_id)
    echo(f"ticket {ticket_id}: P{ticket.priority} ({ticket.priority_reason})")
