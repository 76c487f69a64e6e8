"""Configuration of the dialogue engine's policy: thresholds and canned messages."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from assistant.errors import ConfigError


@dataclass
class EngineConfig:
    reply_threshold: float = 0.55  # min ranker score to answer with the best bank reply
    reply_threshold_oos: float = 0.75  # the same bar when the message looks out of scope
    kb_threshold: float = 0.45  # min KB passage score to answer from the knowledge base
    kb_threshold_oos: float = 0.6  # the same bar when the message looks out of scope
    intent_confidence: float = 0.5  # below this an intent prediction counts as low confidence
    clarify_min_mass: float = 0.6  # top-2 intent probabilities must add up to this to clarify
    handoff_after_low_turns: int = 3  # hand off after this many low-confidence turns in a row
    human_intent: str = "human_agent"  # intent meaning "I want a person"
    always_human_intents: tuple[str, ...] = ("delete_account",)  # always handed to a human
    n_candidates: int = 5  # ranked alternatives kept with each reply
    n_citations: int = 3  # KB passages cited with a KB answer
    kb_k: int = 5  # passages retrieved per message
    handoff_message: str = (
        "I'm handing this conversation to a member of our support team. They'll reply here "
        "shortly — your ticket number is {ticket_id}."
    )
    oos_message: str = (
        "Sorry, that's outside what I can help with here. I can help with orders, shipping, "
        "returns, billing, your Nimbus Home account, subscriptions and devices. You can also "
        "type **human** to reach our support team."
    )
    fallback_message: str = (
        "Sorry, I'm not sure I understood. Could you tell me a bit more, for example your order "
        "number or which device you mean?"
    )
    extra: dict = field(default_factory=dict)  # free-form settings kept with the config

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name.endswith(("threshold", "threshold_oos", "confidence", "mass")) and not (
                -1.0 <= float(v) <= 1.0
            ):
                raise ConfigError(f"{f.name} must be between -1 and 1, got {v!r}")
        if self.handoff_after_low_turns < 1:
            raise ConfigError(
                f"handoff_after_low_turns must be >= 1, got {self.handoff_after_low_turns}"
            )
        for name in ("n_candidates", "n_citations", "kb_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        self.always_human_intents = tuple(self.always_human_intents)

    @classmethod
    def from_file(cls, path) -> EngineConfig:
        """Read overrides from a JSON file (keys are field names)."""
        import json
        from pathlib import Path

        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{p}: config file not found.") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}:{exc.lineno}: invalid JSON ({exc.msg}).") from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{p}: unknown setting(s) {unknown}; known: {sorted(known)}.")
        return cls(**data)
