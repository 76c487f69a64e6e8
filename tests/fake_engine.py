"""A scripted stand-in for `DialogueEngine`: the real service and log, no models.

It answers by keywords and records what it was given, so tests can check what the engine saw
(history, message, low-confidence streak) live and after a reload.
"""

from __future__ import annotations

from assistant.config import EngineConfig
from assistant.placeholders import extract_slots, fill
from assistant.reply import Candidate, Decision


class ScriptedEngine:
    """`decide` like DialogueEngine's: "human" hands off, "unclear" asks to clarify, else replies.

    The reply fills `{name}`, `{order_number}` and `{email}` from what the customer said so far,
    as the real engine fills bank replies.
    """

    REPLY = "Thanks {name}, I found {order_number} and will write to {email}."

    def __init__(self, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.versions = {"intent": "intent:scripted", "ranker": "ranker:scripted"}
        self.calls: list[tuple[list[tuple[str, str]], str, int]] = []

    def decide(self, history: list[tuple[str, str]], message: str, low_streak: int = 0) -> Decision:
        self.calls.append((list(history), message, low_streak))
        if "human" in message:
            return Decision(
                self.config.handoff_message,
                "handoff",
                "customer asked for a human",
                **self._predicted("human_agent", 0.99),
                handoff=True,
            )
        if "unclear" in message:
            if low_streak + 1 >= self.config.handoff_after_low_turns:
                return Decision(
                    self.config.handoff_message,
                    "handoff",
                    f"{low_streak + 1} low-confidence turns in a row",
                    **self._predicted("order_status", 0.3),
                    handoff=True,
                    low_confidence=True,
                )
            return Decision(
                "Could you tell me a bit more?",
                "clarify",
                "low confidence",
                **self._predicted("order_status", 0.3),
                low_confidence=True,
            )
        slots = extract_slots([text for role, text in history if role == "customer"] + [message])
        text = fill(self.REPLY, slots)
        return Decision(
            text,
            "ranker",
            "best reply scores 0.90 >= 0.55",
            **self._predicted("order_status", 0.95),
            candidates=[Candidate(text, 0.9, ["order_status"])],
        )

    @staticmethod
    def _predicted(label: str, confidence: float) -> dict:
        return {"intent": label, "confidence": confidence, "top_intents": [(label, confidence)]}
