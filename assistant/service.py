"""The assistant as the chat, `ask` and triage see it: the engine plus the conversation log.

`AssistantService` keeps no conversation state of its own. Before each message it reads the
conversation's state from the log (`ConversationLog.state`: status, history, low-confidence
streak), after its own queued writes are done, so a conversation continues the same way after a
restart or in another process, and what another process wrote (an agent's reply, a hand-back)
counts at once. Each exchange is one write (`ConversationLog.add_exchange`), handed to a
background `LogWriter` so a reply never waits on disk, and the customer's text is redacted once:
the engine sees the text as it is stored.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from pathlib import Path

from assistant.config import EngineConfig
from assistant.errors import LogError, ModelError
from assistant.log import (
    ConversationLog,
    ConversationState,
    LogWatcher,
    LogWriter,
    new_id,
    utc_now,
)
from assistant.reply import ConversationSummary, ConversationView, Reply, TurnRecord
from assistant.untrusted import clean


class AssistantService:
    """Engine + log behind one small interface (the chat UI's backend)."""

    def __init__(self, engine, log: ConversationLog, info: dict | None = None) -> None:
        # A DialogueEngine, or a Future of one still loading (`open_service(background=True)`):
        # then the log is usable at once and the first reply waits for the models.
        self._engine = engine
        self.log = log
        self.writer = LogWriter(log)
        self.info = dict(info or {})
        self._watcher: LogWatcher | None = None  # made by the first wait_for_change
        self._watcher_lock = threading.Lock()
        self._closed = False

    @property
    def engine(self):
        """The dialogue engine (waits for it while it is loading in the background)."""
        if isinstance(self._engine, Future):
            self._engine = self._engine.result()
        return self._engine

    def wait_ready(self) -> None:
        """Block until the models are loaded; raises what loading raised."""
        _ = self.engine

    # -- conversations --------------------------------------------------------------------------
    def new_conversation(self, channel: str = "chat") -> str:
        """Start a conversation and return its id (the write is queued: nothing waits)."""
        cid = new_id()
        self.writer.submit(
            ConversationLog.new_conversation, channel, conversation_id=cid, started=utc_now()
        )
        return cid

    def state(self, conversation_id: str) -> ConversationState:
        """The conversation's state as the log has it, this service's queued writes included."""
        self.writer.flush()
        return self.log.state(conversation_id)

    def _state_or_start(self, conversation_id: str) -> ConversationState:
        """The state; a conversation id the log does not know yet (`ask --conversation`) starts."""
        state = self.state(conversation_id)
        if state.status is None:
            self.writer.submit(
                ConversationLog.new_conversation,
                "cli",
                conversation_id=conversation_id,
                started=utc_now(),
            )
            state = ConversationState(status="bot")
        return state

    def status(self, conversation_id: str) -> str:
        """ "bot", "human" or "closed" (a conversation the log does not know counts as "bot")."""
        return self.state(conversation_id).status or "bot"

    # -- one turn ---------------------------------------------------------------------------------
    def respond(self, conversation_id: str, text: str) -> Reply:
        """Answer one customer message and log the exchange."""
        engine = self.engine  # waits here if the models are still loading (not turn latency)
        t0 = time.perf_counter()
        cid = conversation_id
        state = self._state_or_start(cid)
        # Valid text whatever the front end (undecodable bytes -> U+FFFD), then the one
        # redaction: the engine sees what is stored.
        message = self.log.redact(clean(text))
        if state.status == "human":
            reply = Reply(
                reply="",
                source="muted",
                reason="handed off: waiting for an agent",
                conversation_id=cid,
                turn_id="",  # nothing is shown, so no assistant turn is logged
                latency_ms=(time.perf_counter() - t0) * 1000,
                redacted_text=str(message),
            )
            self._log_exchange(cid, message, reply)
            return reply
        d = engine.decide(state.history, str(message), state.low_streak)
        ticket_id = self.log.new_ticket_id() if d.handoff else None
        reply = Reply.delivered(
            d,
            cid,
            new_id(),
            reply=d.reply.format(ticket_id=ticket_id) if ticket_id else d.reply,
            ticket_id=ticket_id,
            latency_ms=(time.perf_counter() - t0) * 1000,
            redacted_text=str(message),
        )
        self._log_exchange(cid, message, reply, engine.versions)
        return reply

    def _log_exchange(
        self, cid: str, message: str | None, reply: Reply, versions: dict | None = None
    ) -> None:
        """Queue the exchange as one write: the message, any ticket, the reply as it is."""
        self.writer.submit(
            ConversationLog.add_exchange,
            cid,
            message,
            reply,
            message_id=None if message is None else new_id(),
            model_versions=versions,
            time=utc_now(),
        )

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
        cid = conversation_id
        if self._state_or_start(cid).status == "human":
            return Reply(
                reply="You're already in the queue for a member of our team.",
                source="handoff",
                reason="already handed off",
                conversation_id=cid,
                turn_id="",
            )
        ticket_id = self.log.new_ticket_id()
        reply = Reply(
            reply=self.engine.config.handoff_message.format(ticket_id=ticket_id),
            source="handoff",
            reason="customer pressed 'talk to a human'",
            conversation_id=cid,
            turn_id=new_id(),
            ticket_id=ticket_id,
        )
        self._log_exchange(cid, None, reply)
        return reply

    def hand_back(self, conversation_id: str) -> None:
        """An agent hands the conversation back to the bot."""
        self.writer.submit(ConversationLog.hand_back, conversation_id, time=utc_now())

    # -- reads for the chat (never on its UI thread) ---------------------------------------------
    def conversations(self, limit: int = 50) -> list[ConversationSummary]:
        """The most recent conversations, newest first."""
        self.writer.flush()
        return self.log.conversations(limit)

    def transcript(self, conversation_id: str) -> list[TurnRecord]:
        """Every stored turn of a conversation, oldest first."""
        return self.conversation(conversation_id).turns

    def conversation(self, conversation_id: str, after_seq: int = 0) -> ConversationView:
        """The conversation's status and its turns after `after_seq`."""
        self.writer.flush()
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
        """Write everything queued, then close the log."""
        with self._watcher_lock:
            self._closed = True
            if self._watcher is not None:
                self._watcher.close()
        try:
            self.writer.close()
        finally:
            self.log.close()


def open_service(
    models_dir: str | Path | None = None,
    kb_dir: str | Path | None = None,
    db_path: str | Path | None = None,
    config: EngineConfig | None = None,
    threads: int = 1,
    background: bool = False,
) -> AssistantService:
    """Load models, KB and log; defaults come from the user data directory (`assistant demo`).

    `threads` is the encoders' intra-op thread count. One message is a tiny batch: a second
    thread saves ~15% of an encode on an idle machine, but makes every encode several times
    slower as soon as another thread (the log writer, the UI) wants the CPU.

    With `background`, the models load in a background thread: the service returns once the
    paths are checked and the log is open, and the first `respond` waits for the models. The
    chat opens at once this way.
    """
    from assistant.paths import user_home

    home = user_home()
    models = Path(models_dir) if models_dir else home / "models"
    if not (models / "intent" / "manifest.json").is_file():
        raise ModelError(
            f"No trained models in {models}. Run `assistant demo --no-chat` to train the demo "
            "models, or pass --models DIR with `intent/` and `ranker/` inside."
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
        from kb.encoder import set_inference_threads

        set_inference_threads(threads)

        return DialogueEngine.load(models, kb, config)

    log = ConversationLog(db)
    info = {"models": str(models), "kb": str(kb) if kb else "(none)", "db": str(db)}
    if not background:
        try:
            return AssistantService(load(), log, info)
        except BaseException:
            log.close()
            raise
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(load())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the engine
            future.set_exception(exc)

    threading.Thread(target=run, name="load-models", daemon=True).start()
    return AssistantService(future, log, info)
