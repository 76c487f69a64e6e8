"""The assistant as the chat, `ask` and triage see it: the engine plus the conversation log.

`AssistantService` keeps no conversation state of its own. Before each message it reads the
conversation's state from the log (`ConversationLog.state`: status, history, low-confidence
streak), after its own queued writes are done, so a conversation continues the same way after a
restart or in another process, and what another process wrote (an agent's reply, a hand-back)
counts at once. The customer's text is redacted once (and cut to `MAX_MESSAGE_CHARS`): the engine
sees the text as it is stored.

The durability contract (docs/reliability.md):

- an exchange (the customer's message, the ticket a handoff opens, the reply) is one
  transaction (`ConversationLog.write_exchange`): all of it is stored or none;
- `respond` and `request_human` return a reply only once its exchange is on disk: in the log,
  or, when the log stays busy for `log_wait` seconds, is read-only or full, in the spool file
  beside it (`assistant.log.spool`, written into the log at the next start), and the user is
  told. When neither can be written, they raise LogError and the reply is not shown;
- a wait for a busy log longer than `notice_after` seconds is announced as it happens;
- what the user must be told (a wait, a spooled exchange, a failed rating, a damaged log set
  aside, spooled exchanges written at start-up, a message cut) goes to the callback given to
  `listen` (the chat shows it on screen, `ask` prints it on stderr); none of it quotes
  customer text.

Ratings and hand-backs are queued (`LogWriter.submit`: nothing waits for them); one that fails
is announced and makes `close()` raise, so the command exits non-zero. A conversation is stored
with its first exchange: `new_conversation` only chooses its id.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from assistant.config import EngineConfig
from assistant.errors import ConfigError, LogError, ModelError
from assistant.follower import ModelFollower, load_in_background
from assistant.limits import MAX_MESSAGE_CHARS, is_blank
from assistant.log import (
    ConversationLog,
    ConversationState,
    LogWatcher,
    LogWriter,
    new_id,
    utc_now,
)
from assistant.log.columns import cut_redacted
from assistant.log.spool import Spool
from assistant.log.store import Exchange, is_busy
from assistant.log.writer import BUSY_SLICE_MS, FailedWrite
from assistant.notices import Notices
from assistant.redact import check_conversation_id
from assistant.reply import ConversationSummary, ConversationView, Reply, TurnRecord
from assistant.untrusted import clean

LOG_WAIT_S = 10.0  # the longest a reply waits for a busy log before its exchange is spooled
NOTICE_AFTER_S = 1.0  # a wait for the log longer than this is announced
LOG_WAIT_ENV = "ASSISTANT_LOG_WAIT"  # seconds, overrides LOG_WAIT_S for `chat` and `ask`

# What a queued write is, in a notice about its failure.
_WHAT = {
    "add_feedback": "a rating",
    "hand_back": "a hand-back",
    "close_conversation": "closing a conversation",
    "open_ticket": "a ticket",
    "add_correction": "a correction",
    "new_conversation": "a new conversation",
}


class _Wait:
    """The time one turn may wait for the log, and whether the wait was announced yet."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.announced = False

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


class AssistantService:
    """Engine + log behind one small interface (the chat UI's backend)."""

    def __init__(
        self,
        engine,
        log: ConversationLog,
        info: dict | None = None,
        *,
        log_wait: float = LOG_WAIT_S,
        notice_after: float = NOTICE_AFTER_S,
        customer: str | None = None,
    ) -> None:
        # Whose chat this is: conversations it starts belong to this customer, the browser
        # lists only theirs, and another customer's conversation is refused (None: any, as
        # `ask` and scripts need).
        self.customer = None if customer is None else check_conversation_id(customer)
        # `engine`: a DialogueEngine, or a Future of one still loading
        # (`open_service(background=True)`): then the log is usable at once and the first reply
        # waits for the models.
        self.log = log
        self.log_wait = log_wait
        self.notice_after = notice_after
        self.info = dict(info or {})
        self._notices = Notices(log.notices)  # what the user must be told (any thread)
        self.spooled = 0  # exchanges saved to the spool instead of the log (the user was told)
        self.lost = 0  # exchanges saved nowhere (their replies were not shown; respond raised)
        self._channels: dict[str, str] = {}  # conversations started here: id -> channel
        # Each write on the service's own connection waits for a lock one slice at a time, so
        # the exchange's wait is bounded by `log_wait` and announced after `notice_after`.
        log.set_busy_timeout(BUSY_SLICE_MS)
        self.spool = Spool.beside(log.path) if log.path is not None else None
        if self.spool is not None:
            replayed = self.spool.replay(log)
            if replayed.message():
                self._notices.tell(replayed.message())
        self.writer = LogWriter(log, busy_wait=log_wait, on_failure=self._write_failed)
        self._watcher: LogWatcher | None = None  # made by the first wait_for_change
        self._watcher_lock = threading.Lock()
        self._closed = False
        # The engine in use, swapped for a newly promoted version once it is loaded
        # (`follow_models`); said on screen through the notices.
        self.models = ModelFollower(engine, notice=self._notices.tell)

    @property
    def engine(self):
        """The dialogue engine (waits for it while it is loading in the background). A newly
        promoted version, once loaded (`follow_models`), replaces it here: callers take the
        engine once per turn, so a turn is answered by one version."""
        return self.models.engine

    def follow_models(
        self, models_dir: str | Path, load: Callable | None = None, interval: float = 1.0
    ) -> None:
        """Follow the models directory's current version (`assistant models promote`,
        `rollback`, `retrain`): a switched pointer is noticed within `interval` seconds, the
        new version loads in a background thread (`load`; default: the one given before), and
        the next turn is answered with it. The conversation goes on: its state is in the log,
        not in the engine (`assistant.follower`)."""
        self.models.follow(models_dir, load, interval)

    def wait_ready(self) -> None:
        """Block until the models are loaded; raises what loading raised."""
        _ = self.engine

    # -- notices --------------------------------------------------------------------------------
    def listen(self, callback: Callable[[str], None]) -> None:
        """Send what the user must be told to `callback` (any thread), starting with the backlog."""
        self._notices.listen(callback)

    def _write_failed(self, failure: FailedWrite) -> None:
        what = _WHAT.get(failure.method, failure.method)
        self._notices.tell(f"Could not save {what}: {failure.error}")

    # -- conversations --------------------------------------------------------------------------
    def new_conversation(self, channel: str = "chat") -> str:
        """Choose the id of a new conversation; it is stored with its first exchange."""
        cid = new_id()
        self._channels[cid] = channel
        return cid

    def state(self, conversation_id: str) -> ConversationState:
        """The conversation's state as the log has it, this service's queued writes included."""
        self.writer.wait(self.log_wait)
        return self.log.state(conversation_id)

    def status(self, conversation_id: str) -> str:
        """ "bot", "human" or "closed" (a conversation the log does not know counts as "bot")."""
        return self.state(conversation_id).status or "bot"

    # -- one turn ---------------------------------------------------------------------------------
    def respond(self, conversation_id: str, text: str) -> Reply:
        """Answer one customer message; return the reply once the exchange is on disk.

        Raises ConfigError for a message with nothing visible in it (not answered, not logged)
        or a malformed conversation id, and LogError when the exchange could be saved neither
        in the log nor in the spool (then the reply must not be shown).
        """
        text = clean(text)  # valid text whatever the front end (undecodable bytes -> U+FFFD)
        if is_blank(text):
            raise ConfigError(
                "The message is empty (only spaces or invisible characters): nothing was "
                "answered or logged."
            )
        cid = check_conversation_id(conversation_id, self.log.redaction)
        self._check_owner(cid)
        engine = self.engine  # waits here if the models are still loading (not turn latency)
        t0 = time.perf_counter()
        wait = _Wait(self.log_wait)
        state = self._state_before_turn(cid, wait)
        # The one redaction (the engine sees what is stored), then the cut: a card or address
        # across the cut was replaced whole.
        message, cut_chars = cut_redacted(self.log.redact(text), MAX_MESSAGE_CHARS)
        if cut_chars:
            self._notices.tell(
                f"The message was cut to {MAX_MESSAGE_CHARS:,} characters: the last "
                f"{cut_chars:,} were not read (the log records the cut)."
            )
        message_turn_id = new_id()  # the customer's turn: `ask --json` prints it as "turn_id"
        if state.status == "human":
            reply = Reply(
                reply="",
                source="muted",
                reason="handed off: waiting for an agent",
                conversation_id=cid,
                turn_id="",  # nothing is shown, so no assistant turn is logged
                message_turn_id=message_turn_id,
                latency_ms=(time.perf_counter() - t0) * 1000,
                redacted_text=str(message),
            )
            self._store(cid, message, reply, None, cut_chars, wait)
            return reply
        d = engine.decide(state.history, str(message), state.low_streak)
        ticket_id = self.log.new_ticket_id() if d.handoff else None
        reply = Reply.delivered(
            d,
            cid,
            new_id(),
            reply=d.reply.format(ticket_id=ticket_id) if ticket_id else d.reply,
            ticket_id=ticket_id,
            message_turn_id=message_turn_id,
            latency_ms=(time.perf_counter() - t0) * 1000,
            redacted_text=str(message),
        )
        self._store(cid, message, reply, engine.versions, cut_chars, wait)
        return reply

    def _state_before_turn(self, cid: str, wait: _Wait) -> ConversationState:
        """The state after this service's queued writes (ratings, hand-backs), waited for within
        the turn's time for the log (announced if long); what is still queued comes later."""
        if not self.writer.wait(self.notice_after):
            self._busy_notice(wait)
            self.writer.wait(wait.remaining())
        return self.log.state(cid)

    def _busy_notice(self, wait: _Wait) -> None:
        if not wait.announced:  # once a turn
            wait.announced = True
            self._notices.tell(
                f"The conversation log {self.log.name} is busy (another program is writing to "
                f"it): waiting up to {self.log_wait:g} s to save this exchange."
            )

    def _store(
        self,
        cid: str,
        message: str | None,
        reply: Reply,
        versions: dict | None,
        cut_chars: int,
        wait: _Wait,
    ) -> None:
        """Put the exchange on disk (the log, else the spool) before the reply is returned."""
        exchange = self.log.prepare_exchange(
            cid,
            message,
            reply,
            message_id=None if message is None else reply.message_turn_id or new_id(),
            model_versions=versions,
            time=utc_now(),
            channel=self._channels.get(cid, "cli"),  # started by its first exchange
            cut_chars=cut_chars,
            customer=self.customer,  # only a new conversation takes it
        )
        reason = self._write_now(exchange, wait)
        if reason is None:
            return
        if self.spool is None:
            self.lost += 1
            raise LogError(f"The exchange was not saved, so the reply is not shown: {reason}")
        try:
            self.spool.append(exchange)
        except LogError as exc:
            self.lost += 1
            raise LogError(
                f"The exchange was not saved, so the reply is not shown. The conversation log: "
                f"{reason} {exc}"
            ) from exc
        self.spooled += 1
        self._notices.tell(
            f"The conversation log {self.log.name} could not be written: {reason} This exchange "
            f"was saved to {self.spool.path} instead; it is written to the log the next time "
            "the assistant starts."
        )

    def _write_now(self, exchange: Exchange, wait: _Wait) -> str | None:
        """Write the exchange on this thread, retrying a busy log in slices until the turn's time
        for the log is up (announced after `notice_after`); None once stored, else why not.

        On the caller's thread, not the writer's: the caller waits for it anyway, and handing it
        to another thread and back cost more than the write itself (2 ms against 0.4 ms here).
        """
        started = time.monotonic()
        while True:
            attempt = time.monotonic()
            try:
                self.log.write_exchange(exchange)
                return None
            except LogError as exc:
                if not is_busy(exc):
                    return str(exc)
            if time.monotonic() - started >= self.notice_after:
                self._busy_notice(wait)  # before giving up too: it did wait that long
            if wait.remaining() <= 0:
                return (
                    f"it stayed busy (another program held its write lock) for {self.log_wait:g} s."
                )
            if time.monotonic() - attempt < BUSY_SLICE_MS / 2000:
                time.sleep(BUSY_SLICE_MS / 1000)  # SQLite gave up at once: wait a slice here

    def rate(self, turn_id: str, good: bool) -> None:
        """Store a customer's rating of an assistant turn (queued: nothing waits)."""
        self.writer.submit(
            ConversationLog.add_feedback,
            turn_id,
            1 if good else -1,
            feedback_id=new_id(),
            time=utc_now(),
        )

    def request_human(self, conversation_id: str) -> Reply:
        """Hand the conversation to a human (button or key), as if the customer asked."""
        cid = check_conversation_id(conversation_id, self.log.redaction)
        self._check_owner(cid)
        wait = _Wait(self.log_wait)
        if self._state_before_turn(cid, wait).status == "human":
            return Reply(
                reply="You're already in the queue for a member of our team.",
                source="handoff",
                reason="already handed off",
                conversation_id=cid,
                turn_id="",
            )
        engine = self.engine  # one version for the turn, named in the log as any reply's
        ticket_id = self.log.new_ticket_id()
        reply = Reply(
            reply=engine.config.handoff_message.format(ticket_id=ticket_id),
            source="handoff",
            reason="customer pressed 'talk to a human'",
            conversation_id=cid,
            turn_id=new_id(),
            ticket_id=ticket_id,
        )
        self._store(cid, None, reply, engine.versions, 0, wait)
        return reply

    def _check_owner(self, cid: str) -> None:
        """Refuse another customer's conversation when this service is one customer's chat."""
        if self.customer is None:
            return
        owner = self.log.customer_of(cid)
        if owner is not None and owner != self.customer:
            raise ConfigError(
                f"Conversation {cid} is not one of yours: nothing was sent. Press ctrl+n to "
                "start a new conversation."
            )

    def hand_back(self, conversation_id: str) -> None:
        """An agent hands the conversation back to the bot."""
        self.writer.submit(ConversationLog.hand_back, conversation_id, time=utc_now())

    # -- reads for the chat (never on its UI thread) ---------------------------------------------
    def conversations(self, limit: int = 50) -> list[ConversationSummary]:
        """The most recent conversations, newest first (only this customer's, when the
        service is a customer's chat)."""
        self.writer.wait(self.log_wait)
        return self.log.conversations(limit, customer=self.customer)

    def transcript(self, conversation_id: str) -> list[TurnRecord]:
        """Every stored turn of a conversation, oldest first."""
        return self.conversation(conversation_id).turns

    def conversation(self, conversation_id: str, after_seq: int = 0) -> ConversationView:
        """The conversation's status and its turns after `after_seq`."""
        self.writer.wait(self.log_wait)
        return self.log.view(conversation_id, after_seq)

    def wait_for_change(self, after: int, timeout: float) -> int:
        """Block until the log changed (any process) since change count `after`, or `timeout`.

        Returns the change count to pass back next time (0 before the first change).
        """
        with self._watcher_lock:
            if self._closed:
                raise LogError(f"The conversation log {self.log.name} is closed.")
            if self._watcher is None:
                self._watcher = LogWatcher(self.log)
            watcher = self._watcher
        return watcher.wait(after, timeout)

    def close(self) -> None:
        """Write everything queued, then close the log.

        Raises LogError when a queued write (a rating, a hand-back) failed during the session.
        """
        with self._watcher_lock:
            self._closed = True
            if self._watcher is not None:
                self._watcher.close()
        self.models.stop()
        try:
            self.writer.close()
        finally:
            self.log.close()


def log_wait_from_env() -> float:
    """`$ASSISTANT_LOG_WAIT` (seconds a reply waits for a busy log), else `LOG_WAIT_S`."""
    raw = os.environ.get(LOG_WAIT_ENV, "").strip()
    if not raw:
        return LOG_WAIT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise ConfigError(
            f"{LOG_WAIT_ENV}={raw!r}: give the seconds a reply may wait for a busy "
            f"conversation log, between 0 and 3600 (default {LOG_WAIT_S:g})."
        )
    return value


def check_writable(db: Path) -> None:
    """Raise LogError when the log at `db` (or the folder it is made in) cannot be written.

    The assistant writes every turn, so a read-only log is refused at start-up, before a reply
    is computed, instead of failing turn after turn.
    """
    folder = db.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent  # the log's folder is made on open: its first existing parent
    for path in (db, folder):
        if path.exists() and not os.access(path, os.W_OK):
            raise LogError(
                f"The conversation log {db} cannot be written: {path} is read-only. The "
                "assistant stores every turn, so make it writable, or pass --db with a file in "
                "a writable folder."
            )


def release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc `malloc_trim`; elsewhere
    nothing). Loading two ONNX models leaves ~20 MB of parse buffers freed but still
    resident in the loader threads' heaps; this returns them in ~1 ms."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:  # not glibc: nothing to give back this way
        pass


def open_service(
    models_dir: str | Path | None = None,
    kb_dir: str | Path | None = None,
    db_path: str | Path | None = None,
    config: EngineConfig | None = None,
    threads: int = 1,
    background: bool = False,
    customer: str | None = None,
) -> AssistantService:
    """Load models, KB and log; defaults come from the user data directory (`assistant demo`).

    `threads` is the intra-op thread count of the intent encoder and of numpy's and faiss's
    pools: the intent model's short message encodes on one core beside the context encode.
    The ranker's encoder, which encodes the turn's context (the turn's critical path), gets
    every core instead (`assistant.engine.default_context_threads`).

    With `background`, the models load in a background thread: the service returns once the
    paths are checked and the log is open, and the first `respond` waits for the models. The
    chat opens at once this way.

    `customer` makes it one customer's chat (see `AssistantService`).
    """
    from assistant.paths import user_home

    home = user_home()
    models = Path(models_dir) if models_dir else home / "models"
    from assistant.versions import has_models

    if not has_models(models):
        raise ModelError(
            f"No trained models in {models}. Run `assistant demo --no-chat` to train the demo "
            "models, or pass --models DIR with `intent/` and `ranker/` inside (or versions)."
        )
    kb = (
        Path(kb_dir)
        if kb_dir
        else (home / "kb" if (home / "kb" / "manifest.json").is_file() else None)
    )
    db = Path(db_path) if db_path else home / "conversations.db"
    if config is None and (home / "config.json").is_file():
        config = EngineConfig.from_file(home / "config.json")

    def load():
        from assistant.engine import DialogueEngine
        from kb.encoder import limit_native_pools, set_inference_threads

        set_inference_threads(threads)

        engine = DialogueEngine.load(models, kb, config)
        limit_native_pools(threads)  # again: the KB brought faiss's OpenMP and BLAS
        release_free_memory()
        return engine

    log_wait = log_wait_from_env()
    check_writable(db)
    log = ConversationLog(db)
    info = {"models": str(models), "kb": str(kb) if kb else "(none)", "db": str(db)}
    if not background:
        try:
            svc = AssistantService(load(), log, info, log_wait=log_wait, customer=customer)
        except BaseException:
            log.close()
            raise
        svc.follow_models(models, load)
        return svc
    svc = AssistantService(
        load_in_background(load), log, info, log_wait=log_wait, customer=customer
    )
    svc.follow_models(models, load)
    return svc
