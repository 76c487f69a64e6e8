"""The assistant as the chat, `ask` and triage see it: the engine plus the conversation log.

`AssistantService` keeps each conversation's recent turns in memory (reloaded from the log
for a conversation started elsewhere), asks the engine for a decision, opens tickets for
handoffs, and hands every write to a background `LogWriter` so a reply never waits on disk.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from assistant.config import EngineConfig
from assistant.errors import ModelError
from assistant.log import ConversationLog, LogWriter, new_id
from assistant.redact import redact
from assistant.reply import Reply


@dataclass
class _ConversationState:
    history: list[tuple[str, str]] = field(default_factory=list)  # (role, text), oldest first
    low_streak: int = 0  # low-confidence turns in a row


class AssistantService:
    """Engine + log behind one small interface (the chat UI's backend)."""

    def __init__(self, engine, log: ConversationLog, info: dict | None = None) -> None:
        # A DialogueEngine, or a Future of one still loading (`open_service(background=True)`):
        # then the log is usable at once and the first reply waits for the models.
        self._engine = engine
        self.log = log
        self.writer = LogWriter(log)
        self.info = dict(info or {})
        self._state: dict[str, _ConversationState] = {}

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
        cid = self.writer.new_conversation(channel=channel)
        self._state[cid] = _ConversationState()
        return cid

    def _conversation(self, cid: str) -> _ConversationState:
        st = self._state.get(cid)
        if st is None:
            turns = self.log.transcript(cid)
            if not turns and self.log.status(cid) is None:
                self.writer.new_conversation(channel="cli", conversation_id=cid)
            st = _ConversationState(
                history=[(t.role, t.text) for t in turns if t.text],
            )
            for t in reversed(turns):
                if t.role != "assistant":
                    continue
                if t.source != "clarify":
                    break
                st.low_streak += 1
            self._state[cid] = st
        return st

    def status(self, cid: str) -> str:
        return self.writer.status(cid) or "bot"

    # -- one turn ---------------------------------------------------------------------------------
    def respond(self, conversation_id: str, text: str) -> Reply:
        """Answer one customer message and log both turns."""
        engine = self.engine  # waits here if the models are still loading (not turn latency)
        t0 = time.perf_counter()
        cid = conversation_id
        st = self._conversation(cid)
        shown, _ = redact(text, self.log.redaction)
        if self.status(cid) == "human":
            self.writer.add_turn(cid, "customer", text)
            st.history.append(("customer", text))
            return Reply(
                reply="",
                source="muted",
                reason="handed off: waiting for an agent",
                conversation_id=cid,
                turn_id="",
                latency_ms=(time.perf_counter() - t0) * 1000,
                redacted_text=shown,
            )
        d = engine.decide(st.history, text, st.low_streak)
        st.low_streak = st.low_streak + 1 if d.low_confidence else 0
        ticket_id = None
        reply_text = d.reply
        if d.handoff:
            ticket_id = self.writer.open_ticket(cid, d.reason)
            reply_text = d.reply.format(ticket_id=ticket_id)
            st.low_streak = 0
        latency = (time.perf_counter() - t0) * 1000
        self.writer.add_turn(
            cid,
            "customer",
            text,
            intent=d.intent,
            confidence=d.confidence,
            top_intents=[list(x) for x in d.top_intents],
        )
        turn_id = new_id()
        reply = Reply.delivered(
            d,
            cid,
            turn_id,
            reply=reply_text,
            ticket_id=ticket_id,
            latency_ms=latency,
            redacted_text=shown,
        )
        self.writer.add_turn(
            cid,
            "assistant",
            reply_text,
            turn_id=turn_id,
            source=d.source,
            reason=d.reason,
            candidates=[{"text": c.text, "score": round(c.score, 4)} for c in d.candidates],
            citations=[c.to_dict() for c in d.citations],
            model_versions=self.engine.versions,
            latency_ms=round(latency, 2),
        )
        st.history += [("customer", text), ("assistant", reply_text)]
        return reply

    def rate(self, turn_id: str, good: bool) -> None:
        """Store a customer's rating of an assistant turn."""
        self.writer.add_feedback(turn_id, 1 if good else -1)

    def request_human(self, conversation_id: str) -> Reply:
        """Hand the conversation to a human (button or key), as if the customer asked."""
        cid = conversation_id
        st = self._conversation(cid)
        if self.status(cid) == "human":
            return Reply(
                reply="You're already in the queue for a member of our team.",
                source="handoff",
                reason="already handed off",
                conversation_id=cid,
                turn_id="",
            )
        ticket_id = self.writer.open_ticket(cid, "customer pressed 'talk to a human'")
        text = self.engine.config.handoff_message.format(ticket_id=ticket_id)
        turn_id = self.writer.add_turn(
            cid, "assistant", text, source="handoff", reason="customer asked for a human"
        )
        st.history.append(("assistant", text))
        return Reply(
            reply=text,
            source="handoff",
            reason="customer asked for a human",
            conversation_id=cid,
            turn_id=turn_id,
            ticket_id=ticket_id,
        )

    def hand_back(self, conversation_id: str) -> None:
        """An agent hands the conversation back to the bot."""
        self.writer.hand_back(conversation_id)
        self._conversation(conversation_id).low_streak = 0

    def conversations(self, limit: int = 50):
        self.writer.flush(timeout=5)
        return self.log.conversations(limit)

    def transcript(self, conversation_id: str):
        self.writer.flush(timeout=5)
        return self.log.transcript(conversation_id)

    def close(self) -> None:
        self.writer.close()
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

    `threads` is torch's intra-op thread count. One message is a tiny batch: a second thread
    saves ~15% of an encode on an idle machine, but makes every encode several times slower
    as soon as another thread (the log writer, the UI) wants the CPU.

    With `background`, the models load in a background thread (importing torch and
    transformers alone takes seconds): the service returns once the paths are checked and the
    log is open, and the first `respond` waits for the models. The chat opens at once this way.
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
        import torch

        torch.set_num_threads(threads)
        from assistant.engine import DialogueEngine

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
