"""The triage console behind `assistant triage`: agents work the ticket queue from the keyboard.

Layout (panes numbered as in k9s / lazygit; `1`-`4` jump to one):

    ┌ 1 Queue ───────────────────────┐┌ 2 Conversation ─────────────────────────┐
    │ open tickets, priority, wait   ││ customer / bot / agent turns, notes      │
    │ against the SLA, assignee      ││                                          │
    ├ 4 Review inbox ────────────────┤├ 3 Assist ───────────────────────────────┤
    │ bot turns worth a look,        ││ suggested replies, KB passages           │
    │ grouped by predicted intent    │├ reply / note ────────────────────────────┤
    └────────────────────────────────┘└──────────────────────────────────────────┘

Everything the console shows and changes goes through a `Desk` (the tickets API of the log,
`TicketDesk`; the tests also use an in-memory fake). Every `Desk` call may wait on the database
or the models, so none runs on the UI thread: reads run in exclusive thread workers that post
their result back, writes (claim, reply, corrections, ...) in thread workers that report how
they went. One more worker follows the log (`Desk.wait_for_change`, any process's commits) and
re-reads the queue and the open ticket, so a customer's new message shows within a second.
A `TicketDesk` with models follows the models directory's current version as the chat does
(`assistant.follower`): when `assistant models promote` or `rollback` switches it, the new
version loads in the desk's own thread, the desk says so (`Desk.listen`), and the console shows
the notice and reads the labels and the open ticket's suggestions again, from the new version.

Single-letter keys act only when no text box has the focus (`check_action`), so typing a reply
never triggers one; `escape` leaves the box. Customer text is shown as data (`plain`, `cell`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.fuzzy import Matcher
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    Input,
    ListItem,
    ListView,
    OptionList,
    Static,
    Tree,
)
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from assistant.assist import N_PASSAGES, N_SUGGESTIONS, Assist, assist
from assistant.errors import LogError, ModelError
from assistant.follower import FOLLOW_EVERY_S, ModelFollower, load_in_background
from assistant.log import ConversationLog
from assistant.log.store import check_agent
from assistant.notices import Notices
from assistant.priority import LABELS as PRIORITY_LABELS
from assistant.priority import PriorityRules
from assistant.tickets import (
    ReviewGroup,
    ReviewItem,
    Ticket,
    TicketDetail,
    Tickets,
    TranscriptTurn,
    model_labels,
)
from assistant.tui.safe import SafeApp, SafeInput, cell, key_table, plain
from assistant.untrusted import clean, inert, one_line

# -- what the console needs from the tickets API -----------------------------------------------


class Desk(Protocol):
    """What the triage console needs: one agent's view of `assistant.tickets` and the models.

    `TicketDesk` implements it over `assistant.tickets.Tickets`; the tests also use an
    in-memory fake. Every method may block (database, models): the console calls them from
    thread workers. Writes raise `assistant.errors.TicketError` (its `ClaimError` names the
    holder of a ticket another agent has).
    """

    agent: str  # the agent using this console (claims, replies, notes are theirs)
    info: dict[str, str]  # what is loaded (db, models, KB): shown on the help screen
    sla_s: float | None  # the first-response target: a longer wait is highlighted
    priorities: dict[int, str]  # the priorities a ticket may have: value -> label

    def tickets(self) -> list[Ticket]:
        """Open tickets, highest priority then longest wait first."""
        ...

    def ticket(self, ticket_id: str) -> TicketDetail:
        """A ticket, its whole transcript (with corrections and ratings) and its notes."""
        ...

    def assist(self, ticket_id: str) -> Assist:
        """Suggested replies and KB passages for the conversation so far (runs the models)."""
        ...

    def labels(self) -> list[str]:
        """The intent labels an agent may pick (the model's, else those in the log)."""
        ...

    def claim(self, ticket_id: str) -> None:
        """Take the ticket; `ClaimError` naming the holder when another agent has it."""
        ...

    def reply(self, ticket_id: str, text: str) -> None:
        """Send `text` to the customer as this agent."""
        ...

    def note(self, ticket_id: str, text: str) -> None:
        """Add an internal note (never shown to the customer)."""
        ...

    def correct(self, turn_id: str, intent: str) -> None:
        """Store that customer turn `turn_id` meant `intent` (with agent and time)."""
        ...

    def confirm(self, turn_id: str) -> None:
        """Store that the predicted intent of customer turn `turn_id` is right."""
        ...

    def rate(self, turn_id: str, good: bool) -> None:
        """Rate a bot reply as this agent."""
        ...

    def set_priority(self, ticket_id: str, priority: int) -> None:
        """Set the ticket's priority by hand."""
        ...

    def resolve(self, ticket_id: str, hand_back: bool) -> None:
        """Close the ticket: hand the conversation back to the bot, or close it too."""
        ...

    def review(self) -> list[ReviewGroup]:
        """Bot turns worth a look that no agent confirmed or corrected, by predicted intent."""
        ...

    def wait_for_change(self, after: int, timeout: float) -> int:
        """Block until the log changed (any process) since change count `after`, or `timeout`."""
        ...

    def close(self) -> None:
        """Release the database and the models."""
        ...

    # Optional: `listen(callback)`, where a desk that follows the models directory's current
    # version says that another one is in use (`TicketDesk.listen`); the console then shows it
    # and asks for new suggestions.


class TicketDesk:
    """The `Desk` over a conversation log: `assistant.tickets.Tickets` as one agent, plus the
    models for the Assist pane and the intent labels (optional, loaded in the background).

    `engine` is a `DialogueEngine`, a `Future` of one still loading, or None (no models: the
    Assist pane says so and the labels come from the log). `follow_models` keeps it on the
    models directory's current version, as the chat does (`assistant.follower`): a promoted or
    rolled-back version loads in the background and the next suggestion comes from it.
    """

    def __init__(
        self,
        tickets: Tickets,
        agent: str,
        engine: Any = None,
        info: dict[str, str] | None = None,
        *,
        model_labels: Sequence[str] | None = None,
        n_suggestions: int = N_SUGGESTIONS,
        n_passages: int = N_PASSAGES,
    ) -> None:
        self.api = tickets
        self.agent = check_agent(agent)
        self._notices = Notices()  # the follower's thread tells, the UI listens
        self.models = ModelFollower(engine, notice=self._notices.tell)
        # The intent model's labels read from its manifest at once (not from the loading
        # engine), until the engine is loaded: what a correction may be. None without models.
        self._labels_at_open = None if model_labels is None else list(model_labels)
        self.info = {"agent": self.agent, **(info or {})}
        self.sla_s = tickets.rules.sla_s
        self.priorities = dict(PRIORITY_LABELS)
        self.n_suggestions = n_suggestions
        self.n_passages = n_passages

    @property
    def engine(self) -> Any:
        """The dialogue engine (waits while it loads), or None without models."""
        return self.models.engine

    @property
    def model_labels(self) -> list[str] | None:
        """What an intent may be corrected to: the labels of the version in use (those of
        the version that was current at open while it loads); None without models."""
        intent = getattr(self.models.loaded(), "intent", None)
        labels = getattr(intent, "labels", None)
        return list(labels) if labels is not None else self._labels_at_open

    def follow_models(
        self, models_dir: str | Path, load: Callable[[], Any] | None = None, interval: float = 1.0
    ) -> None:
        """Use the models directory's current version for the next suggestions, once a
        promoted or rolled-back one is loaded (`ModelFollower.follow`)."""
        self.models.follow(models_dir, load, interval)

    def listen(self, callback: Callable[[str], None]) -> None:
        """Send what the agent must be told about the models (another version in use, one
        that failed to load) to `callback` (any thread), starting with the backlog."""
        self._notices.listen(callback)

    # -- reads ---------------------------------------------------------------------------------

    def tickets(self) -> list[Ticket]:
        return self.api.list("open")

    def ticket(self, ticket_id: str) -> TicketDetail:
        return self.api.show(ticket_id)

    def review(self) -> list[ReviewGroup]:
        return self.api.review_inbox()

    def labels(self) -> list[str]:
        """The intent model's labels; without models, every intent the log has seen."""
        if self.model_labels is not None:
            return sorted(self.model_labels)
        return self.api.intents_seen()

    def assist(self, ticket_id: str) -> Assist:
        """Suggested replies (the whole bank, agent-only entries included, the ticket number
        filled in) and KB passages for the conversation so far (`assistant.assist`, as
        `tickets show` asks it); waits while the models load."""
        detail = self.api.show(ticket_id)
        return assist(
            self.engine,
            detail.context(),
            slots=detail.slots(),
            k=self.n_suggestions,
            kb_k=self.n_passages,
        )

    # -- writes --------------------------------------------------------------------------------

    def claim(self, ticket_id: str) -> None:
        self.api.claim(ticket_id, self.agent)

    def reply(self, ticket_id: str, text: str) -> None:
        self.api.reply(ticket_id, text, self.agent)

    def note(self, ticket_id: str, text: str) -> None:
        self.api.note(ticket_id, text, self.agent)

    def correct(self, turn_id: str, intent: str) -> None:
        self.api.correct_intent(turn_id, intent, self.agent, labels=self.model_labels)

    def confirm(self, turn_id: str) -> None:
        self.api.confirm_intent(turn_id, self.agent)

    def rate(self, turn_id: str, good: bool) -> None:
        self.api.rate(turn_id, good, self.agent)

    def set_priority(self, ticket_id: str, priority: int) -> None:
        self.api.set_priority(ticket_id, priority, self.agent)

    def resolve(self, ticket_id: str, hand_back: bool) -> None:
        self.api.resolve(ticket_id, "hand_back" if hand_back else "close", self.agent)

    def wait_for_change(self, after: int, timeout: float) -> int:
        return self.api.wait_for_change(after, timeout)

    def close(self) -> None:
        """Stop following the models and watching the log, and close it."""
        self.models.stop()
        self.api.close()
        self.api.log.close()


def open_desk(
    db: str | Path,
    agent: str,
    models_dir: str | Path | None = None,
    kb_dir: str | Path | None = None,
    rules: PriorityRules | None = None,
    follow_interval: float = FOLLOW_EVERY_S,
) -> TicketDesk:
    """A `TicketDesk` over the log at `db` for `agent`; the models (if any) load in the
    background, so the console opens at once, and follow the current version of `models_dir`
    (checked every `follow_interval` seconds).

    Raises LogError when there is no log at `db` (a console on a mistyped path would wait
    for tickets forever) and ModelError when `models_dir` holds no trained models.
    """
    db = Path(db)
    if not db.is_file():
        raise LogError(
            f"No conversation log at {db}: start `assistant chat` (or `ask`) with it first, "
            "or pass --db with the log the chats write to."
        )
    labels = None
    if models_dir is not None:
        from assistant.versions import has_models, resolve_models

        if not has_models(models_dir):
            raise ModelError(
                f"No trained models in {models_dir}: pass --models DIR with `intent/` and "
                "`ranker/` inside, or model versions (`assistant demo --no-chat` trains the "
                "demo models)."
            )
        # The labels of the version that loads, read from its manifest: pickable at once.
        labels = model_labels(resolve_models(models_dir).path)
    log = ConversationLog(db)
    try:
        tickets = Tickets(log, rules or PriorityRules.load())
        info = {
            "db": str(db),
            "models": str(models_dir) if models_dir else "(none: no suggestions)",
            "kb": str(kb_dir) if kb_dir else "(none)",
        }
    except BaseException:
        log.close()
        raise
    if models_dir is None:
        return TicketDesk(tickets, agent, None, info, model_labels=labels)

    def load() -> Any:
        from assistant.engine import DialogueEngine
        from kb.encoder import inference_threads, limit_native_pools

        engine = DialogueEngine.load(models_dir, kb_dir)  # the current version, when versioned
        limit_native_pools(inference_threads() or 1)  # see `limit_native_pools`
        return engine

    desk = TicketDesk(tickets, agent, load_in_background(load), info, model_labels=labels)
    desk.follow_models(models_dir, load, follow_interval)
    return desk


# -- formatting --------------------------------------------------------------------------------


def duration(seconds: float) -> str:
    """A waiting time the way a queue shows it.

    >>> [duration(s) for s in (42, 75, 3600 * 5 + 60 * 7, 86400 * 3)]
    ['42s', '1m15s', '5h07m', '3d0h']
    """
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600}h"


def breached(waited: float, target: float | None) -> bool:
    """Has a customer waited longer than the first-response target (None: no target)?

    >>> breached(901, 900), breached(60, 900), breached(10**6, None)
    (True, False, False)
    """
    return target is not None and waited > target


def priority_text(value: int, labels: dict[int, str]) -> str:
    """ "5 critical", or the number alone when it has no label.

    >>> priority_text(5, {5: "critical"}), priority_text(2, {})
    ('5 critical', '2')
    """
    label = labels.get(value)
    return f"{value} {label}" if label else str(value)


def why_short(why: Sequence[str]) -> str:
    """A review item's reasons in a few characters, for its row in the inbox.

    >>> why_short(["low confidence 0.31", "clarify"]), why_short(["out of scope", "rated bad"])
    ('low 0.31 clarify', 'oos bad')
    """
    short = {"low confidence": "low", "out of scope": "oos", "rated bad": "bad"}
    out = []
    for reason in why:
        for long, brief in short.items():
            reason = reason.replace(long, brief)
        out.append(reason)
    return " ".join(out)


def short_time(iso: str) -> str:
    """A log time as month, day and minute: "2024-05-01T12:00:07Z" -> "05-01 12:00"."""
    return iso[5:16].replace("T", " ")


def confidence_text(intent: str | None, confidence: float | None) -> str:
    """ "billing 82%", "—" without a prediction.

    >>> confidence_text("order_status", 0.815), confidence_text(None, None)
    ('order_status 82%', '—')
    """
    if not intent:
        return "—"
    return f"{intent} {confidence:.0%}" if confidence is not None else intent


def matches(row: Ticket, query: str) -> bool:
    """Does a queue row hold every word of the `/` filter (ticket, text, intent, assignee,
    priority reason)?"""
    words = query.lower().split()
    if not words:
        return True
    hay = " ".join(
        str(value or "")
        for value in (
            row.id,
            row.last_customer_text,
            row.intent,
            row.assignee,
            row.priority_reason,
        )
    ).lower()
    return all(word in hay for word in words)


def fuzzy(query: str, choices: Iterable[str]) -> list[str]:
    """`choices` that fuzzy-match `query`, best first (all of them, in order, for no query)."""
    choices = list(choices)
    if not query.strip():
        return choices
    matcher = Matcher(query)
    scored = [(matcher.match(c), i, c) for i, c in enumerate(choices)]
    return [c for score, _, c in sorted(scored, key=lambda t: (-t[0], t[1])) if score > 0]


# -- filters -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """Which tickets the queue shows."""

    scope: str = "all"  # "all" | "mine" | "unassigned"
    intent: str | None = None  # only tickets predicted as this intent
    priority: int | None = None  # only tickets of this priority
    text: str = ""  # the `/` filter: every word must appear

    def keep(self, row: Ticket, agent: str) -> bool:
        """Does the queue show `row` to `agent`?"""
        if self.scope == "mine" and row.assignee != agent:
            return False
        if self.scope == "unassigned" and row.assignee:
            return False
        if self.intent is not None and row.intent != self.intent:
            return False
        if self.priority is not None and row.priority != self.priority:
            return False
        return matches(row, self.text)

    def describe(self) -> str:
        """ "mine · intent billing · /refund" for the queue's title."""
        parts = [self.scope]
        if self.intent:
            parts.append(f"intent {self.intent}")
        if self.priority is not None:
            parts.append(f"priority {self.priority}")
        if self.text:
            parts.append(f"/{self.text}")
        return " · ".join(parts)


# -- panes -------------------------------------------------------------------------------------


class QueuePane(Vertical):
    """Pane 1: the open tickets."""

    def compose(self) -> ComposeResult:
        yield SafeInput(placeholder="Filter: words of the ticket, message, intent…", id="filter")
        yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
        yield Static("", id="queue-empty", classes="empty")


class TurnItem(ListItem):
    """One turn (or internal note) of the conversation."""

    def __init__(self, turn: TranscriptTurn | None, body: Content, caption: str, kind: str) -> None:
        super().__init__(classes=f"turn {kind}")
        self.turn = turn  # None for a note
        self._body = body
        self._caption = caption

    def compose(self) -> ComposeResult:
        yield Static(self._caption, classes="who", markup=False)
        yield Static(self._body, classes="text", markup=False)

    def set_caption(self, caption: str) -> None:
        """Change the line above the text (a correction, a rating)."""
        self._caption = caption
        if self.is_mounted:
            self.query_one(".who", Static).update(caption)


class ReviewTree(Tree[ReviewItem | None]):
    """Pane 4: bot turns worth a look, grouped by predicted intent."""

    BINDINGS = [
        Binding("y", "app.review('confirm')", "Confirm", tooltip="The predicted intent is right"),
        Binding("e", "app.review('change')", "Change", tooltip="Pick the right intent"),
        Binding("s", "app.review('skip')", "Skip", tooltip="Leave it for later"),
    ]


# -- dialogs -----------------------------------------------------------------------------------


class PickScreen(ModalScreen[str | None]):
    """Pick one of many choices by typing a few letters of it (fuzzy), then Enter."""

    BINDINGS = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, title: str, choices: Sequence[str], current: str | None = None) -> None:
        super().__init__()
        self._title = title
        self._choices = list(choices)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-dialog", classes="dialog"):
            yield Static(plain(self._title, multiline=False), classes="dialog-title")
            yield SafeInput(placeholder="type to narrow down", id="pick-query")
            yield OptionList(id="pick-options")
            yield Static("↑/↓ choose · Enter pick · Esc cancel", classes="dialog-hint")

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#pick-query", Input).focus()

    def _fill(self, query: str) -> None:
        options = self.query_one("#pick-options", OptionList)
        options.clear_options()
        found = fuzzy(query, self._choices)
        options.add_options(Option(Text(inert(c, multiline=False)), id=c) for c in found)
        if found:
            first = found.index(self._current) if self._current in found and not query else 0
            options.highlighted = first

    @on(Input.Changed, "#pick-query")
    def _narrow(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_key(self, event) -> None:
        """Up and down move the choice while the query box keeps the focus."""
        if event.key in ("up", "down"):
            options = self.query_one("#pick-options", OptionList)
            options.action_cursor_up() if event.key == "up" else options.action_cursor_down()
            event.stop()

    @on(Input.Submitted, "#pick-query")
    def _pick_highlighted(self) -> None:
        options = self.query_one("#pick-options", OptionList)
        if options.highlighted is not None:
            self.dismiss(options.get_option_at_index(options.highlighted).id)

    @on(OptionList.OptionSelected)
    def _pick(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question (resolving a ticket cannot be undone from the console)."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(plain(self._question), id="confirm-question")
            yield Static("y / Enter yes · n / Esc no", classes="dialog-hint")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class TriageHelp(ModalScreen[None]):
    """Every key of the console, by pane, and what is loaded."""

    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss", "Close")]

    def __init__(self, sections: Sequence[tuple[str, Sequence[tuple[str, str]]]], info) -> None:
        super().__init__()
        self._sections = list(sections)
        self._info = dict(info)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            for title, rows in self._sections:
                yield Static(title, classes="dialog-title")
                yield Static(key_table(rows, "bold $accent"), classes="help-table")
            if self._info:
                yield Static("Loaded", classes="dialog-title")
                yield Static(key_table(self._info.items(), "bold"), classes="help-table")
            yield Static("Esc to close", classes="dialog-hint")


# -- the app -----------------------------------------------------------------------------------


def _while_running(handler: Callable[..., None]) -> Callable[..., None]:
    """A handler that updates the console's widgets, skipped once the console is shutting
    down: a worker's result or a timer can still arrive while the widgets are being removed."""

    @functools.wraps(handler)
    def run(self: TriageApp, *args: Any) -> None:
        if self.is_running:
            handler(self, *args)

    return run


WATCH_TIMEOUT_S = 0.25  # the log watcher re-checks for cancellation (quitting) this often
REFRESH_EVERY_S = 5.0  # the queue is re-read this often even without changes (waiting times)
REVIEW_EVERY_S = 2.0  # the review inbox is re-read at most this often on changes
PREVIEW_AFTER_S = 0.15  # the queue's cursor rests this long on a ticket before it opens

# Keys that type a character: they act only while no text box has the focus.
SINGLE_KEY_ACTIONS = frozenset(
    {
        "pane",
        "filter",
        "scope",
        "pick_filter",
        "claim",
        "reply",
        "note",
        "correct",
        "rate",
        "priority",
        "resolve",
        "suggest",
        "review",
        "help_key",
        "palette",
        "quit_console",
    }
)
# Actions on the open ticket: shown greyed out while none is open.
TICKET_ACTIONS = frozenset(
    {"claim", "reply", "note", "correct", "rate", "priority", "resolve", "suggest"}
)

PANES = {1: "#queue", 2: "#conversation", 3: "#suggestions", 4: "#review"}


class TriageApp(SafeApp[None]):
    """`assistant triage`: the agents' console over a `Desk`."""

    CSS_PATH = "triage.tcss"
    TITLE = "Triage"
    CRASH_NAME = "The triage console"

    BINDINGS = [
        Binding("1", "pane(1)", "Queue", show=False),
        Binding("2", "pane(2)", "Conversation", show=False),
        Binding("3", "pane(3)", "Assist", show=False),
        Binding("4", "pane(4)", "Review", show=False),
        Binding("slash", "filter", "Filter", tooltip="Filter the queue by words"),
        Binding("m", "scope('mine')", "Mine", show=False, tooltip="Only my tickets"),
        Binding("u", "scope('unassigned')", "Unassigned", show=False, tooltip="Only unclaimed"),
        Binding("a", "scope('all')", "All", show=False, tooltip="Every open ticket, no filters"),
        Binding("f", "pick_filter", "Intent/priority", show=False, tooltip="Filter by intent"),
        Binding("c", "claim", "Claim", tooltip="Take the ticket (one agent wins)"),
        Binding("r", "reply", "Reply", tooltip="Write to the customer"),
        Binding("s", "suggest", "Use suggestion", show=False, tooltip="Suggestion to reply box"),
        Binding("n", "note", "Note", tooltip="Internal note, never shown to the customer"),
        Binding("i", "correct", "Intent", tooltip="Correct a customer turn's intent"),
        Binding("g", "rate(True)", "Good", show=False, tooltip="Rate a bot reply good"),
        Binding("b", "rate(False)", "Bad", show=False, tooltip="Rate a bot reply bad"),
        Binding("p", "priority", "Priority", tooltip="Set the ticket's priority"),
        Binding("h", "resolve(True)", "Hand back", tooltip="Close the ticket, bot answers again"),
        Binding("x", "resolve(False)", "Close", tooltip="Close the ticket and the conversation"),
        Binding("f5,ctrl+r", "refresh", "Refresh", show=False, tooltip="Read everything again"),
        Binding("f1", "help", "Help", tooltip="Every key"),
        Binding("question_mark", "help_key", "Help", show=False),
        Binding("colon", "palette", "Commands", show=False, tooltip="Command palette"),
        Binding("escape", "leave_input", "Leave box", show=False),
        Binding("q", "quit_console", "Quit", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    class QueueRead(Message):
        def __init__(self, rows: list[Any]) -> None:
            super().__init__()
            self.rows = rows

    class TicketRead(Message):
        def __init__(self, detail: TicketDetail) -> None:
            super().__init__()
            self.detail = detail

    class AssistRead(Message):
        def __init__(self, ticket_id: str, assist: Assist) -> None:
            super().__init__()
            self.ticket_id = ticket_id
            self.assist = assist

    class ReviewRead(Message):
        def __init__(self, groups: list[ReviewGroup]) -> None:
            super().__init__()
            self.groups = groups

    class Changed(Message):
        """The log changed (posted by the watcher): re-read what is on screen."""

    class ModelsChanged(Message):
        """The desk uses another model version now, or could not load one (`Desk.listen`)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    # The open ticket's id ("" for none) and how the reply box is used: "reply" or "note".
    # (init=False: the watchers update widgets, which `on_mount` sets up itself.)
    ticket_id: reactive[str] = reactive("", init=False)
    mode: reactive[str] = reactive("reply", init=False)
    queue_filter: reactive[QueueFilter] = reactive(QueueFilter, init=False)

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.rows: list[Ticket] = []  # the queue as last read (every open ticket)
        self.detail: TicketDetail | None = None  # the open ticket as last read
        self.assist: Assist | None = None
        self.review_groups: list[ReviewGroup] = []  # the review inbox as last read
        self.skipped: set[str] = set()  # review items skipped in this session (turn ids)
        self.labels: list[str] = []  # what an intent can be corrected to
        self.priorities: dict[int, str] = dict(getattr(desk, "priorities", {}) or {})
        self.failures = 0
        self.last_failure = ""
        self.notices: list[str] = []  # what the desk said about the models, oldest first
        self.reads = 0  # completed reads of the queue (tests wait on it)
        self._read_at = time.monotonic()  # when `rows` was read (waiting times tick from it)
        self._review_at = 0.0
        self._assist_for = ""  # the newest customer turn the Assist pane was computed for
        self._shown_turns: set[str] = set()
        self._shown_notes: set[str] = set()
        self._preview_timer: Timer | None = None
        self._console_screen: Screen | None = None  # the main screen (see `_main`)

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                queue = QueuePane(id="queue-pane", classes="pane")
                queue.border_title = "1 Queue"
                yield queue
                review = Vertical(id="review-pane", classes="pane")
                review.border_title = "4 Review inbox"
                with review:
                    tree: ReviewTree = ReviewTree("review", id="review")
                    tree.show_root = False
                    yield tree
                    yield Static("", id="review-item")
            with Vertical(id="right"):
                conversation = Vertical(id="conversation-pane", classes="pane")
                conversation.border_title = "2 Conversation"
                with conversation:
                    yield Static("", id="ticket-head")
                    yield ListView(id="conversation")
                assist = Vertical(id="assist-pane", classes="pane")
                assist.border_title = "3 Assist"
                with assist:
                    yield OptionList(id="suggestions")
                    yield Static("", id="passages")
                reply = SafeInput(placeholder="", id="reply", classes="pane", select_on_focus=False)
                yield reply
        yield Footer()

    @property
    def _main(self) -> Screen:
        """The console's own screen: workers' results land on it while a dialog (help,
        a picker, the palette) is in front, which `self.query_one` would search instead."""
        return self._console_screen or self.screen

    def on_mount(self) -> None:
        self._console_screen = self.screen
        table = self._main.query_one("#queue", DataTable)
        table.add_column("Ticket", key="id")
        table.add_column("Pri", key="priority")
        table.add_column("Waiting", key="waiting")
        table.add_column("Intent", key="intent")
        table.add_column("Assignee", key="assignee")
        table.add_column("Last message", key="text")
        self._main.query_one("#filter", Input).display = False
        self.sub_title = f"agent {one_line(self.desk.agent, 40)}"
        self._show_assist_placeholder("Open a ticket to see suggested replies.")
        self._update_reply_box()
        self._update_ticket_head()
        table.focus()
        listen = getattr(self.desk, "listen", None)
        if callable(listen):  # post_message: the desk calls from its follower's thread
            listen(lambda text: self.post_message(self.ModelsChanged(text)))
        self._read_choices()
        self.refresh_all()
        self._watch_log()
        self.set_interval(REFRESH_EVERY_S, self._read_queue)

    # -- reactive state ------------------------------------------------------------------------

    def watch_ticket_id(self, ticket_id: str) -> None:
        self.refresh_bindings()
        self._update_reply_box()

    def watch_mode(self) -> None:
        self._update_reply_box()

    def watch_queue_filter(self, value: QueueFilter) -> None:
        self._main.query_one("#queue-pane").border_subtitle = value.describe()
        self._show_queue()

    def _update_reply_box(self) -> None:
        box = self._main.query_one("#reply", Input)
        if not self.ticket_id:
            box.border_title = "Reply"
            box.placeholder = "Open a ticket first (Enter in the queue)"
            box.remove_class("note")
            return
        if self.mode == "note":
            box.border_title = f"Internal note on {self.ticket_id} · never shown to the customer"
            box.placeholder = "Type the note, Enter saves it, Esc leaves"
            box.add_class("note")
        else:
            box.border_title = f"Reply to {self.ticket_id}"
            box.placeholder = "Type the reply (r), Enter sends it, Esc leaves"
            box.remove_class("note")

    # -- reading (all in workers) --------------------------------------------------------------

    def refresh_all(self) -> None:
        """Read the queue, the open ticket and the review inbox again."""
        self._read_queue()
        if self.ticket_id:
            self._read_ticket(self.ticket_id)
        self._read_review()

    @work(thread=True, group="choices", exit_on_error=False)
    def _read_choices(self) -> None:
        try:
            labels = self.desk.labels()
        except Exception as exc:
            self.post_message(self.Failed(f"Could not read the intent labels: {exc}"))
            return
        self.call_from_thread(setattr, self, "labels", labels)

    @work(thread=True, group="queue", exclusive=True, exit_on_error=False)
    def _read_queue(self) -> None:
        try:
            rows = self.desk.tickets()
        except Exception as exc:
            self.post_message(self.Failed(f"Could not read the queue: {exc}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.QueueRead(rows))

    @work(thread=True, group="ticket", exclusive=True, exit_on_error=False)
    def _read_ticket(self, ticket_id: str) -> None:
        try:
            detail = self.desk.ticket(ticket_id)
        except Exception as exc:
            self.post_message(self.Failed(f"Could not read ticket {ticket_id}: {exc}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.TicketRead(detail))

    @work(thread=True, group="assist", exclusive=True, exit_on_error=False)
    def _read_assist(self, ticket_id: str) -> None:
        try:
            assist = self.desk.assist(ticket_id)
        except Exception as exc:
            assist = Assist(note=f"No suggestions: {exc}")
        if not get_current_worker().is_cancelled:
            self.post_message(self.AssistRead(ticket_id, assist))

    @work(thread=True, group="review", exclusive=True, exit_on_error=False)
    def _read_review(self) -> None:
        try:
            items = self.desk.review()
        except Exception as exc:
            self.post_message(self.Failed(f"Could not read the review inbox: {exc}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.ReviewRead(items))

    @work(thread=True, group="watch", exit_on_error=False)
    def _watch_log(self) -> None:
        """Post `Changed` whenever any process commits to the log."""
        worker = get_current_worker()
        changes = 0
        last_error = ""
        while not worker.is_cancelled:
            try:
                now = self.desk.wait_for_change(changes, WATCH_TIMEOUT_S)
            except Exception as exc:  # shown once; the watcher keeps going
                if worker.is_cancelled:
                    return
                if str(exc) != last_error:
                    last_error = str(exc)
                    self.post_message(self.Failed(f"Could not follow the log: {exc}"))
                time.sleep(1.0)
                continue
            last_error = ""
            if now != changes:
                changes = now
                self.post_message(self.Changed())

    @_while_running
    def on_triage_app_changed(self) -> None:
        self._read_queue()
        if self.ticket_id:
            self._read_ticket(self.ticket_id)
        if time.monotonic() - self._review_at >= REVIEW_EVERY_S:
            self._read_review()

    @_while_running
    def on_triage_app_models_changed(self, message: ModelsChanged) -> None:
        """Another model version is in use: say so, and take the labels and the open
        ticket's suggestions from it (in workers, as every read)."""
        self.notices.append(message.text)
        self.notify(inert(message.text), markup=False, timeout=8)
        self._read_choices()
        if self.ticket_id:
            self._read_assist(self.ticket_id)

    @_while_running
    def on_triage_app_failed(self, message: Failed) -> None:
        self._failed(message.text)

    def _failed(self, text: str) -> None:
        self.failures += 1
        self.last_failure = text
        self.notify(inert(text), severity="error", markup=False, timeout=8)

    # -- the queue -----------------------------------------------------------------------------

    @_while_running
    def on_triage_app_queue_read(self, message: QueueRead) -> None:
        self.rows = message.rows
        self._read_at = time.monotonic()
        self._show_queue()
        self.reads += 1

    def visible_rows(self) -> list[Ticket]:
        """The queue rows the current filter keeps, in the desk's order."""
        agent = self.desk.agent
        return [row for row in self.rows if self.queue_filter.keep(row, agent)]

    def _show_queue(self) -> None:
        """Redraw the queue table, keeping the cursor on the same ticket."""
        table = self._main.query_one("#queue", DataTable)
        keep = self._cursor_ticket()
        rows = self.visible_rows()
        elapsed = time.monotonic() - self._read_at
        target = self.desk.sla_s
        table.clear()
        for row in rows:
            if row.waiting_s > 0:  # the clock runs on from the read (0: the agent spoke last)
                waited = row.waiting_s + elapsed
                wait = duration(waited) + (f"/{duration(target)}" if target else "")
                wait_cell = Text(wait, style="bold red" if breached(waited, target) else "")
            else:
                wait_cell = Text("answered", style="dim")
            assignee = cell(row.assignee or "—")
            if row.assignee == self.desk.agent:
                assignee.stylize("bold green")
            pri = cell(priority_text(row.priority, self.priorities))
            if row.priority >= 4:
                pri.stylize("bold")
            table.add_row(
                cell(row.id),
                pri,
                wait_cell,
                cell(confidence_text(row.intent, row.confidence)),
                assignee,
                cell(one_line(row.last_customer_text or "", 60)),
                key=row.id,
            )
        empty = self._main.query_one("#queue-empty", Static)
        empty.display = not rows
        if not rows:
            empty.update("No open tickets." if not self.rows else "No ticket matches the filter.")
        pane = self._main.query_one("#queue-pane")
        pane.border_title = f"1 Queue · {len(rows)} of {len(self.rows)} open"
        if keep is not None:
            for index, row in enumerate(rows):
                if row.id == keep:
                    table.move_cursor(row=index, animate=False)
                    break

    def _cursor_ticket(self) -> str | None:
        table = self._main.query_one("#queue", DataTable)
        if not table.row_count:
            return None
        try:
            return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        except Exception:  # noqa: BLE001 - an empty or shrinking table has no cursor row
            return None

    @on(DataTable.RowSelected, "#queue")
    def _open_selected(self, event: DataTable.RowSelected) -> None:
        self.open_ticket(str(event.row_key.value))

    @on(DataTable.RowHighlighted, "#queue")
    def _preview(self, event: DataTable.RowHighlighted) -> None:
        """Moving the cursor opens the ticket under it, once the cursor rests (a redraw of
        the queue puts the cursor back on the open ticket: nothing to do then)."""
        ticket_id = str(event.row_key.value)
        if self._preview_timer is not None:
            self._preview_timer.stop()
            self._preview_timer = None
        table = self._main.query_one("#queue", DataTable)
        if ticket_id != self.ticket_id and table.has_focus:
            # The table's timer: it stops with the table when the console closes.
            self._preview_timer = table.set_timer(PREVIEW_AFTER_S, lambda: self._rested(ticket_id))

    @_while_running
    def _rested(self, ticket_id: str) -> None:
        self._preview_timer = None
        if self._cursor_ticket() == ticket_id:
            self.open_ticket(ticket_id)

    def open_ticket(self, ticket_id: str) -> None:
        """Show a ticket's conversation and suggestions (read in workers)."""
        if ticket_id != self.ticket_id:
            self.detail = None
            self.assist = None
            self._assist_for = ""
            self._shown_turns.clear()
            self._shown_notes.clear()
            self._main.query_one("#conversation", ListView).clear()
            self._show_assist_placeholder("Reading the conversation…")
            self.ticket_id = ticket_id
            self.mode = "reply"
            self._update_ticket_head()
        if self._preview_timer is not None:  # the ticket chosen wins over a pending preview
            self._preview_timer.stop()
            self._preview_timer = None
        table = self._main.query_one("#queue", DataTable)
        if self._cursor_ticket() != ticket_id:
            for index, row in enumerate(self.visible_rows()):
                if row.id == ticket_id and index < table.row_count:
                    table.move_cursor(row=index, animate=False)
                    break
        self._read_ticket(ticket_id)

    # -- the conversation ----------------------------------------------------------------------

    @_while_running
    def on_triage_app_ticket_read(self, message: TicketRead) -> None:
        detail = message.detail
        if str(detail.ticket.id) != self.ticket_id:
            return  # another ticket was opened meanwhile
        self.detail = detail
        self._update_ticket_head()
        view = self._main.query_one("#conversation", ListView)
        # Captions of turns already shown follow the corrections and ratings made since.
        by_id = {turn.turn_id: turn for turn in detail.transcript}
        for item in view.query(TurnItem):
            if item.turn is not None and item.turn.turn_id in by_id:
                item.turn = by_id[item.turn.turn_id]
                item.set_caption(self._caption(item.turn))
        new: list[tuple[str, TurnItem]] = []
        for turn in detail.transcript:
            if turn.turn_id not in self._shown_turns:
                self._shown_turns.add(turn.turn_id)
                new.append((turn.time, self._turn_item(turn)))
        for note in detail.notes:
            if note.id not in self._shown_notes:
                self._shown_notes.add(note.id)
                caption = f"Note · {note.agent} · {short_time(note.time)} · internal"
                item = TurnItem(None, plain(note.text), inert(caption, multiline=False), "note")
                new.append((note.time, item))
        if new:
            at_end = view.index is None or view.index >= len(view.children) - 1
            view.extend(item for _, item in sorted(new, key=lambda pair: pair[0]))
            if at_end:
                view.index = len(view.children) - 1
                view.scroll_end(animate=False)
        customer = [t.turn_id for t in detail.transcript if t.role == "customer"]
        newest = customer[-1] if customer else ""
        if newest != self._assist_for:  # a new customer message: new suggestions
            self._assist_for = newest
            if self.assist is None:
                self._show_assist_placeholder("Computing suggestions…")
            self._read_assist(self.ticket_id)

    def _turn_item(self, turn: TranscriptTurn) -> TurnItem:
        kind = {"customer": "customer", "agent": "agent"}.get(turn.role, "bot")
        return TurnItem(turn, plain(turn.text or "(nothing shown)"), self._caption(turn), kind)

    @staticmethod
    def _caption(turn: TranscriptTurn) -> str:
        """The line above a turn: who, when, and what the models and agents said of it."""
        when = short_time(turn.time)
        if turn.role == "customer":
            caption = f"Customer · {when}"
            if turn.intent:
                caption += f" · {confidence_text(turn.intent, turn.confidence)}"
            if turn.corrected_intent and turn.confirmed:
                caption += " · confirmed"
            elif turn.corrected_intent:
                caption += f" → {turn.corrected_intent} (corrected)"
            return inert(caption, multiline=False)
        if turn.role == "agent":
            return inert(f"Agent {turn.agent or ''} · {when}", multiline=False)
        caption = f"Bot · {when} · {turn.source or ''}"
        if turn.source == "muted":
            caption += " (not shown to the customer)"
        if turn.rating is not None:
            caption += " · rated good" if turn.rating > 0 else " · rated bad"
        return inert(caption, multiline=False)

    def _update_ticket_head(self) -> None:
        head = self._main.query_one("#ticket-head", Static)
        pane = self._main.query_one("#conversation-pane")
        if self.detail is None:
            head.update(
                Content.styled(
                    "Select a ticket in the queue (Enter)"
                    if not self.ticket_id
                    else f"Reading {self.ticket_id}…",
                    "$text-muted",
                )
            )
            pane.border_title = "2 Conversation"
            return
        t = self.detail.ticket
        who = "you" if t.assignee == self.desk.agent else (t.assignee or "nobody (c claims it)")
        state = "open" if t.status == "open" else "resolved"
        talking = {"bot": "the bot answers", "human": "waiting for an agent", "closed": "closed"}
        head.update(
            Content.assemble(
                (one_line(t.id, 20), "bold"),
                " · ",
                (priority_text(t.priority, self.priorities), "bold"),
                (f" ({one_line(t.priority_reason, 80)})", "$text-muted"),
                f"\nheld by {one_line(who, 40)} · ticket {state} · conversation: ",
                talking.get(self.detail.conversation_status or "", "unknown"),
            )
        )
        pane.border_title = f"2 Conversation · {one_line(str(t.id), 20)}"

    def _selected_turn(self, role: str) -> TranscriptTurn | None:
        """The highlighted turn of `role` in the conversation, else the newest one of it."""
        view = self._main.query_one("#conversation", ListView)
        item = view.highlighted_child
        if isinstance(item, TurnItem) and item.turn is not None and item.turn.role == role:
            if view.has_focus:
                return item.turn
        turns = [t for t in (self.detail.transcript if self.detail else []) if t.role == role]
        if role == "assistant":  # muted turns were never shown to the customer
            turns = [t for t in turns if t.source != "muted"]
        return turns[-1] if turns else None

    # -- the assist pane -----------------------------------------------------------------------

    def _show_assist_placeholder(self, text: str) -> None:
        options = self._main.query_one("#suggestions", OptionList)
        options.clear_options()
        self._main.query_one("#passages", Static).update(Content.styled(text, "$text-muted"))

    @_while_running
    def on_triage_app_assist_read(self, message: AssistRead) -> None:
        if message.ticket_id != self.ticket_id:
            return
        self.assist = message.assist
        version = message.assist.model_version
        self._main.query_one("#assist-pane").border_subtitle = (
            f"models: version {one_line(version, 20)}" if version else ""
        )
        options = self._main.query_one("#suggestions", OptionList)
        options.clear_options()
        for n, s in enumerate(message.assist.suggestions):
            label = Text.assemble(
                (f"{s.score:.2f} ", "bold"),
                ("[agent only] ", "bold magenta") if s.agent_only else "",
                inert(one_line(s.text, 400), multiline=False),
            )
            options.add_option(Option(label, id=str(n)))
        if message.assist.suggestions:
            options.highlighted = 0
        passages = self._main.query_one("#passages", Static)
        lines: list[Content] = []
        if message.assist.note:
            lines.append(Content.styled(one_line(message.assist.note), "$text-warning"))
        for p in message.assist.passages:
            lines.append(
                Content.assemble(
                    (f"{p.score:.2f} ", "bold"),
                    (one_line(p.heading, 80), "bold $text-accent"),
                    (f" · {one_line(p.source, 60)}", "$text-muted"),
                    "\n   ",
                    one_line(p.text, 300),
                )
            )
        if not lines and not message.assist.suggestions:
            lines.append(Content.styled("No suggestions for this conversation.", "$text-muted"))
        passages.update(Content("\n").join(lines))

    @on(OptionList.OptionSelected, "#suggestions")
    def _use_selected(self, event: OptionList.OptionSelected) -> None:
        self._use_suggestion(int(event.option.id or 0))

    def _use_suggestion(self, index: int) -> None:
        """Put a suggestion in the reply box to edit; nothing is sent."""
        if self.assist is None or not (0 <= index < len(self.assist.suggestions)):
            self.notify("There is no suggestion to use.", severity="warning")
            return
        self.mode = "reply"
        box = self._main.query_one("#reply", Input)
        box.value = self.assist.suggestions[index].text
        box.cursor_position = len(box.value)
        box.focus()

    # -- the review inbox ----------------------------------------------------------------------

    @_while_running
    def on_triage_app_review_read(self, message: ReviewRead) -> None:
        self._review_at = time.monotonic()
        self.review_groups = message.groups
        self._show_review()

    def _show_review(self) -> None:
        """Redraw the review inbox, keeping the cursor on the same item (or line)."""
        tree = self._main.query_one("#review", ReviewTree)
        node = tree.cursor_node
        keep = node.data.turn_id if node is not None and node.data is not None else None
        line = max(0, tree.cursor_line)
        tree.clear()
        cursor = None
        total = 0
        for group in self.review_groups:
            items = [i for i in group.items if i.turn_id not in self.skipped]
            if not items:
                continue
            total += len(items)
            label = Text.assemble(
                (inert(group.intent, multiline=False), "bold"), f" ({len(items)})"
            )
            branch = tree.root.add(label, expand=True)
            for item in items:
                leaf = branch.add_leaf(
                    Text.assemble(
                        (f"{why_short(item.why):<16} ", "yellow"),
                        inert(one_line(item.text, 70), multiline=False),
                    ),
                    data=item,
                )
                if item.turn_id == keep:
                    cursor = leaf
        self._main.query_one("#review-pane").border_title = f"4 Review inbox · {total}"
        if cursor is not None:
            tree.move_cursor(cursor)
        elif total:
            tree.cursor_line = min(line, tree.last_line)
        self._show_review_item()

    @on(Tree.NodeHighlighted, "#review")
    def _review_highlighted(self) -> None:
        self._show_review_item()

    def _show_review_item(self) -> None:
        """Under the inbox: the highlighted message, what the bot understood and answered."""
        detail = self._main.query_one("#review-item", Static)
        item = self._review_target()
        if item is None:
            detail.update(Content.styled("Nothing to review.", "$text-muted"))
            return
        detail.update(
            Content.assemble(
                ("Customer: ", "bold $primary"),
                one_line(item.text, 300),
                "\n",
                ("Bot: ", "bold $secondary"),
                (f"[{one_line(item.source, 20)}] ", "$text-muted"),
                one_line(item.reply, 300),
                "\n",
                ("Understood: ", "bold"),
                confidence_text(item.intent, item.confidence),
                (
                    f" · {one_line(', '.join(item.why), 80)} · {short_time(item.time)}",
                    "$text-muted",
                ),
            )
        )

    def _review_target(self) -> ReviewItem | None:
        tree = self._main.query_one("#review", ReviewTree)
        node = tree.cursor_node
        if node is None:
            return None
        if node.data is None:  # a group: its first item
            return node.children[0].data if node.children else None
        return node.data

    def action_review(self, what: str) -> None:
        """Confirm, change or skip the highlighted review item."""
        item = self._review_target()
        if item is None:
            self.notify("Nothing to review here.", severity="warning")
            return
        if what == "skip":
            self.skipped.add(item.turn_id)
            self._show_review()
            return
        if what == "confirm":
            if not item.intent:
                self.notify("This turn has no predicted intent: press e to set one.")
                return
            self._write(
                f"Confirmed {item.intent}",
                self.desk.confirm,
                item.turn_id,
                then=self._reviewed(item),
            )
            return

        def picked(label: str | None) -> None:
            if label:
                self._write(
                    f"Corrected to {label}",
                    self.desk.correct,
                    item.turn_id,
                    label,
                    then=self._reviewed(item),
                )

        self.push_screen(
            PickScreen(f"Intent of: {one_line(item.text, 60)}", self.labels, item.intent), picked
        )

    def _reviewed(self, item: ReviewItem) -> Callable[[], None]:
        """Take `item` out of the inbox on screen at once (the next read agrees)."""

        def done() -> None:
            for group in self.review_groups:
                group.items = [i for i in group.items if i.turn_id != item.turn_id]
            self._show_review()

        return done

    # -- writes (in workers) -------------------------------------------------------------------

    def _write(
        self,
        done: str,
        call: Callable[..., Any],
        *args: Any,
        then: Callable[[], None] | None = None,
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        """Run a desk write off the UI thread; say `done` (or the error) when it returns."""
        self._write_worker(done, call, args, then, failed)

    @work(thread=True, group="write", exit_on_error=False)
    def _write_worker(self, done, call, args, then, failed) -> None:
        try:
            call(*args)
        except Exception as exc:
            self.call_from_thread(self._write_failed, exc, failed)
        else:
            self.call_from_thread(self._write_done, done, then)

    @_while_running
    def _write_done(self, done: str, then: Callable[[], None] | None) -> None:
        self.notify(inert(done), markup=False, timeout=4)
        if then is not None:
            then()
        self.refresh_all()

    @_while_running
    def _write_failed(self, exc: Exception, failed: Callable[[Exception], None] | None) -> None:
        if failed is not None:
            failed(exc)
        holder = getattr(exc, "holder", None)
        if holder:  # ClaimError: an answer, not a failure of the console
            said = f"Not done: {holder} has this ticket (claimed first). Pick another one."
            self.notify(inert(said), severity="warning", markup=False, timeout=8)
        else:
            self._failed(str(exc))
        self.refresh_all()

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Single keys are off while typing or in a dialog; ticket keys need an open ticket."""
        if action in SINGLE_KEY_ACTIONS:
            if isinstance(self.screen, ModalScreen) or isinstance(self.focused, Input):
                return False
        if action == "rate" and isinstance(self.focused, ReviewTree):
            return True  # rates the review item's reply
        if action in TICKET_ACTIONS and not self.ticket_id:
            return None  # shown greyed out
        if action == "review" and not isinstance(self.focused, ReviewTree):
            return False
        return True

    def action_pane(self, number: int) -> None:
        """Focus pane `number` (1 Queue, 2 Conversation, 3 Assist, 4 Review)."""
        self._main.query_one(PANES[number]).focus()

    def action_filter(self) -> None:
        """Open the `/` filter box above the queue."""
        box = self._main.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        f = self.queue_filter
        self.queue_filter = QueueFilter(f.scope, f.intent, f.priority, event.value.strip())

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self._main.query_one("#queue", DataTable).focus()

    def action_scope(self, scope: str) -> None:
        """Show my tickets, unassigned ones, or all (which also clears the other filters)."""
        if scope == "all":
            box = self._main.query_one("#filter", Input)
            box.value = ""
            box.display = False
            self.queue_filter = QueueFilter()
        else:
            f = self.queue_filter
            self.queue_filter = QueueFilter(scope, f.intent, f.priority, f.text)

    def action_pick_filter(self) -> None:
        """Filter the queue by an intent or a priority, picked by typing."""
        intents = sorted({r.intent for r in self.rows if r.intent})
        choices = [f"intent: {i}" for i in intents]
        choices += [f"priority: {priority_text(p, self.priorities)}" for p in self._levels()]
        choices.append("no intent or priority filter")

        def picked(choice: str | None) -> None:
            if choice is None:
                return
            self.set_filter(choice)

        self.push_screen(PickScreen("Filter the queue", choices), picked)

    def _levels(self) -> list[int]:
        """The priorities a ticket may have, highest first."""
        return sorted(self.priorities, reverse=True)

    def set_filter(self, choice: str) -> None:
        """Apply "intent: X", "priority: N ..." or clear both."""
        f = self.queue_filter
        if choice.startswith("intent: "):
            self.queue_filter = QueueFilter(f.scope, choice[8:], f.priority, f.text)
        elif choice.startswith("priority: "):
            level = int(choice[10:].split()[0])
            self.queue_filter = QueueFilter(f.scope, f.intent, level, f.text)
        else:
            self.queue_filter = QueueFilter(f.scope, None, None, f.text)

    def action_leave_input(self) -> None:
        """Esc: leave a text box (the filter box also closes and clears)."""
        focused = self.focused
        if focused is None or not isinstance(focused, Input):
            return
        if focused.id == "filter":
            focused.value = ""
            focused.display = False
            self._main.query_one("#queue", DataTable).focus()
        elif focused.id == "reply":
            self._main.query_one("#conversation", ListView).focus()

    def action_claim(self) -> None:
        """Take the open ticket; if another agent was first, say who has it."""
        self._write(f"You have {self.ticket_id} now.", self.desk.claim, self.ticket_id)

    def action_reply(self) -> None:
        """Write a reply to the customer in the box under the conversation."""
        self.mode = "reply"
        self._main.query_one("#reply", Input).focus()

    def action_note(self) -> None:
        """Write an internal note (never shown to the customer)."""
        self.mode = "note"
        self._main.query_one("#reply", Input).focus()

    def action_suggest(self) -> None:
        """Put the highlighted (or best) suggestion into the reply box to edit."""
        options = self._main.query_one("#suggestions", OptionList)
        self._use_suggestion(options.highlighted or 0)

    @on(Input.Submitted, "#reply")
    def _send(self, event: Input.Submitted) -> None:
        text = clean(event.value).strip()
        if not text or not self.ticket_id:
            return
        box = event.input
        ticket_id = self.ticket_id

        def restore(exc: Exception) -> None:  # the text comes back to be sent again
            if not box.value:
                box.value = text

        box.value = ""
        if self.mode == "note":
            self._write(
                f"Note added to {ticket_id}.", self.desk.note, ticket_id, text, failed=restore
            )
            self.mode = "reply"
        else:
            self._write(f"Sent to {ticket_id}.", self.desk.reply, ticket_id, text, failed=restore)

    def action_correct(self) -> None:
        """Correct the intent of the highlighted (else the last) customer turn."""
        turn = self._selected_turn("customer")
        if turn is None:
            self.notify("This conversation has no customer message to correct.")
            return
        current = turn.corrected_intent or turn.intent

        def picked(label: str | None) -> None:
            if label:
                self._write(f"Intent set to {label}.", self.desk.correct, turn.turn_id, label)

        self.push_screen(
            PickScreen(f"Intent of: {one_line(turn.text, 60)}", self.labels, current), picked
        )

    def action_rate(self, good: bool) -> None:
        """Rate a bot reply: the review item's in the inbox, else the highlighted (else the
        last) one of the conversation."""
        said = "good" if good else "bad"
        if isinstance(self.focused, ReviewTree):
            item = self._review_target()
            if item is not None:
                self._write(f"Bot reply rated {said}.", self.desk.rate, item.reply_turn_id, good)
            return
        turn = self._selected_turn("assistant")
        if turn is None:
            self.notify("This conversation has no bot reply to rate.")
            return
        self._write(f"Bot reply rated {said}.", self.desk.rate, turn.turn_id, good)

    def action_priority(self) -> None:
        """Set the open ticket's priority."""
        ticket_id = self.ticket_id
        choices = [priority_text(p, self.priorities) for p in self._levels()]
        current = (
            priority_text(self.detail.ticket.priority, self.priorities) if self.detail else None
        )

        def picked(choice: str | None) -> None:
            if choice:
                level = int(choice.split()[0])
                self._write(
                    f"{ticket_id} is now {choice}.", self.desk.set_priority, ticket_id, level
                )

        self.push_screen(PickScreen(f"Priority of {ticket_id}", choices, current), picked)

    def action_resolve(self, hand_back: bool) -> None:
        """Close the ticket, handing the conversation back to the bot or closing it too."""
        ticket_id = self.ticket_id
        question = (
            f"Close {ticket_id} and hand the conversation back to the bot?"
            if hand_back
            else f"Close {ticket_id} and the conversation (the customer cannot write to it)?"
        )
        done = f"{ticket_id} closed, " + ("the bot answers again." if hand_back else "chat closed.")

        def answered(yes: bool | None) -> None:
            if yes:
                self._write(done, self.desk.resolve, ticket_id, hand_back)

        self.push_screen(ConfirmScreen(question), answered)

    def action_refresh(self) -> None:
        """Read the queue, the open ticket and the review inbox again."""
        self.refresh_all()

    def action_palette(self) -> None:
        """`:` opens the command palette (every action and filter by name)."""
        self.action_command_palette()

    def action_quit_console(self) -> None:
        """`q` quits (when no box has the focus)."""
        self.exit()

    def action_help(self) -> None:
        """Every key, by pane, and what is loaded."""
        self.push_screen(TriageHelp(HELP_SECTIONS, getattr(self.desk, "info", {}) or {}))

    def action_help_key(self) -> None:
        """`?` shows the help too (when no box has the focus; F1 works everywhere)."""
        self.action_help()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every console action and filter in the command palette (`:` or ctrl+p)."""
        yield from super().get_system_commands(screen)
        if self.ticket_id:
            t = self.ticket_id
            yield SystemCommand(f"Claim {t}", "Take the ticket (c)", self.action_claim)
            yield SystemCommand(f"Reply to {t}", "Write to the customer (r)", self.action_reply)
            yield SystemCommand(f"Note on {t}", "Internal note (n)", self.action_note)
            yield SystemCommand(
                "Correct intent", "Of the highlighted customer turn (i)", self.action_correct
            )
            yield SystemCommand(
                "Rate bot reply: good",
                "The highlighted bot reply (g)",
                lambda: self.action_rate(True),
            )
            yield SystemCommand(
                "Rate bot reply: bad",
                "The highlighted bot reply (b)",
                lambda: self.action_rate(False),
            )
            yield SystemCommand(f"Set priority of {t}", "Pick a priority (p)", self.action_priority)
            yield SystemCommand(
                f"Hand {t} back to the bot",
                "Close the ticket (h)",
                lambda: self.action_resolve(True),
            )
            yield SystemCommand(
                f"Close {t} and the conversation", "(x)", lambda: self.action_resolve(False)
            )
            yield SystemCommand("Use suggestion", "Into the reply box (s)", self.action_suggest)
        yield SystemCommand("Queue: mine", "Only my tickets (m)", lambda: self.action_scope("mine"))
        yield SystemCommand(
            "Queue: unassigned",
            "Only unclaimed tickets (u)",
            lambda: self.action_scope("unassigned"),
        )
        yield SystemCommand("Queue: all", "Every open ticket (a)", lambda: self.action_scope("all"))
        yield SystemCommand("Queue: filter by words", "(/)", self.action_filter)
        for intent in sorted({r.intent for r in self.rows if r.intent}):
            yield SystemCommand(
                f"Queue: intent {inert(intent, multiline=False)}",
                "Only tickets predicted as this intent",
                lambda i=intent: self.set_filter(f"intent: {i}"),
            )
        for level in self._levels():
            yield SystemCommand(
                f"Queue: priority {priority_text(level, self.priorities)}",
                "Only tickets of this priority",
                lambda p=level: self.set_filter(f"priority: {p}"),
            )
        for number, name in ((1, "Queue"), (2, "Conversation"), (3, "Assist"), (4, "Review inbox")):
            yield SystemCommand(
                f"Go to {name}", f"Pane {number} ({number})", lambda n=number: self.action_pane(n)
            )
        yield SystemCommand("Refresh", "Read everything again (F5)", self.action_refresh)
        yield SystemCommand("Keys", "Every key (F1 / ?)", self.action_help)


HELP_SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Panes",
        [
            ("1 2 3 4", "Queue, Conversation, Assist, Review inbox"),
            ("Tab / shift+Tab", "next / previous pane"),
            ("↑ ↓  Enter", "move, open the ticket / use the suggestion"),
        ],
    ),
    (
        "Queue",
        [
            ("/", "filter by words (Esc clears)"),
            ("m / u / a", "mine / unassigned / all (a clears every filter)"),
            ("f", "filter by intent or priority"),
        ],
    ),
    (
        "Ticket",
        [
            ("c", "claim (if another agent has it, you are told who)"),
            ("r", "reply: type, Enter sends"),
            ("s", "put the highlighted suggestion in the reply box (nothing is sent)"),
            ("n", "internal note (never shown to the customer)"),
            ("i", "correct the intent of the highlighted / last customer turn"),
            ("g / b", "rate the highlighted / last bot reply good / bad"),
            ("p", "set the priority"),
            ("h / x", "resolve: hand back to the bot / close the conversation"),
        ],
    ),
    (
        "Review inbox",
        [("y", "confirm the predicted intent"), ("e", "change it"), ("s", "skip")],
    ),
    (
        "Anywhere",
        [
            ("Esc", "leave the text box (single keys work again)"),
            (": / ctrl+p", "command palette: every action and filter by name"),
            ("F1 / ?", "this help"),
            ("F5 / ctrl+r", "read everything again"),
            ("q / ctrl+q", "quit"),
        ],
    ),
]


__all__ = [
    "Desk",
    "QueueFilter",
    "TicketDesk",
    "TriageApp",
    "open_desk",
]
