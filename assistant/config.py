"""Configuration of the dialogue engine's policy: thresholds and canned messages."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from assistant.errors import ConfigError

# The settings `assistant calibrate` chooses on validation dialogues (models/calibration/).
CALIBRATED = (
    "reply_threshold",
    "reply_threshold_oos",
    "kb_threshold",
    "kb_threshold_oos",
    "clarify_min_mass",
)


def threshold_max(name: str) -> float:
    """The highest value a setting may take: a KB score adds the keyword score (up to its weight)
    to a cosine, so a KB bar may go up to 2 (above every score: the KB never answers); every
    other score is a cosine or a probability, at most 1.

    >>> threshold_max("kb_threshold"), threshold_max("reply_threshold")
    (2.0, 1.0)
    """
    return 2.0 if name.startswith("kb_threshold") else 1.0


@dataclass
class EngineConfig:
    """The policy's settings. The thresholds below are the defaults: a models directory with a
    calibration (`assistant calibrate`) replaces those in `CALIBRATED`, except the ones a config
    file sets (`from_file` records them in `explicit`)."""

    reply_threshold: float = 0.55  # min ranker score to answer with the best bank reply
    reply_threshold_oos: float = 0.75  # the same bar when the out-of-scope class wins
    kb_threshold: float = 0.45  # min KB passage score to answer from the knowledge base
    kb_threshold_oos: float = 0.6  # the same bar when the out-of-scope class wins
    intent_confidence: float = 0.5  # below this an intent prediction counts as low confidence
    clarify_min_mass: float = 0.6  # top-2 intent probabilities must add up to this to clarify
    # Small talk: any reply agents gave for these intents fits, so when the intent is sure
    # (>= intent_reply_confidence) such a reply may answer at a lower score ("thx bye" is
    # thanks_goodbye at 0.91 even when no goodbye scores reply_threshold).
    smalltalk_intents: tuple[str, ...] = ("greeting", "thanks_goodbye")
    intent_reply_confidence: float = 0.8
    reply_threshold_intent: float = 0.35  # the lower bar for a small-talk reply
    handoff_after_low_turns: int = 3  # hand off after this many unhelpful turns in a row
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
    explicit: tuple[str, ...] = ()  # settings a config file gave: calibration leaves them alone

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            bounded = ("threshold", "threshold_oos", "threshold_intent", "confidence", "mass")
            top = threshold_max(f.name)
            if f.name.endswith(bounded) and not (-1.0 <= float(v) <= top):
                raise ConfigError(f"{f.name} must be between -1 and {top:g}, got {v!r}")
        if self.handoff_after_low_turns < 1:
            raise ConfigError(
                f"handoff_after_low_turns must be >= 1, got {self.handoff_after_low_turns}"
            )
        for name in ("n_candidates", "n_citations", "kb_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        self.always_human_intents = tuple(self.always_human_intents)
        self.smalltalk_intents = tuple(self.smalltalk_intents)
        self.explicit = tuple(self.explicit)

    def calibrated(self, thresholds: dict[str, float]) -> EngineConfig:
        """This config with calibrated `thresholds` (names from `CALIBRATED`), except the
        settings a config file gave (`explicit`), which win.

        >>> EngineConfig(explicit=("kb_threshold",)).calibrated(
        ...     {"reply_threshold": 0.7, "kb_threshold": 0.2}).reply_threshold
        0.7
        """
        from dataclasses import replace

        unknown = sorted(set(thresholds) - set(CALIBRATED))
        if unknown:
            raise ConfigError(f"calibrated setting(s) {unknown} unknown; known: {CALIBRATED}.")
        chosen = {k: float(v) for k, v in thresholds.items() if k not in self.explicit}
        return replace(self, **chosen)

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
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: expected a JSON object of settings, got {type(data).__name__}")
        known = {f.name for f in fields(cls)} - {"explicit"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{p}: unknown setting(s) {unknown}; known: {sorted(known)}.")
        return cls(**data, explicit=tuple(sorted(data)))
