"""Ticket priority from rules: the intent, urgency and frustration in the words, the wait.

Every priority comes with its reason, so an agent sees why a ticket is near the top:

    >>> rules = PriorityRules()
    >>> p = rules.rate("payment_failed", ["my card was declined, fix this ASAP"], 700)
    >>> p.value, p.label
    (5, 'critical')
    >>> p.reason
    'payment_failed: high (3) · urgency "asap" +1 · waiting 12 min (over 10) +1'

The rules are a dataclass with defaults; a TOML file overrides them (`PriorityRules.load`):
`priority.toml` in the user data directory, or the file a caller names. An agent can also set a
ticket's priority by hand; the reason then says who did (`assistant.tickets`).

    # priority.toml: every key optional
    default = 2                            # an intent without a rule
    sla_minutes = 15                       # first-response target (the console highlights breaches)
    wait_minutes = [10, 30]                # +1 for each of these the customer has waited
    urgency_cues = ["asap", "urgent"]      # replace the default lists
    frustration_cues = ["ridiculous"]
    urgency_boost = 1
    frustration_boost = 1
    generic_intents = ["human_agent", "greeting"]   # not what a ticket is about
    [intents]                              # merged over the defaults
    payment_failed = 3
    plan_pricing = 1
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

LOWEST, HIGHEST = 1, 5
LABELS = {1: "low", 2: "normal", 3: "high", 4: "urgent", 5: "critical"}
RULES_FILE = "priority.toml"  # in the user data directory: read when it exists


def _default_intents() -> dict[str, int]:
    # Money and access first (a customer who cannot pay, log in or find a parcel is blocked);
    # questions with an answer on the website last.
    high = (
        "payment_failed",
        "unexpected_charge",
        "refund_status",
        "missing_package",
        "damaged_item",
        "delete_account",
        "two_factor",
        "reset_password",
        "warranty_claim",
    )
    low = ("plan_pricing", "shipping_options", "contact_hours", "promo_code", "compatibility")
    return {**{name: 3 for name in high}, **{name: 1 for name in low}}


URGENCY_CUES = (
    "urgent",
    "urgently",
    "asap",
    "as soon as possible",
    "immediately",
    "right now",
    "emergency",
    "locked out",
    "charged twice",
    "stolen",
    "fraud",
    "today",
)
FRUSTRATION_CUES = (
    "ridiculous",
    "unacceptable",
    "angry",
    "furious",
    "terrible",
    "useless",
    "worst",
    "fed up",
    "still waiting",
    "still not",
    "third time",
    "again and again",
    "complaint",
    "refund me",
    "lawyer",
    "!!",
)


@dataclass(frozen=True)
class Priority:
    """A ticket's priority (1 low .. 5 critical) and why."""

    value: int
    reason: str

    @property
    def label(self) -> str:
        """ "low", "normal", "high", "urgent" or "critical"."""
        return LABELS[self.value]


@dataclass(frozen=True)
class Cues:
    """The first urgency and frustration cue found in a customer's words (None: none)."""

    urgency: str | None = None
    frustration: str | None = None


@dataclass
class PriorityRules:
    """How a ticket's priority is computed. Every field has a default; see the module doc."""

    default: int = 2  # priority of an intent without a rule (2 = normal)
    intents: dict[str, int] = field(default_factory=_default_intents)  # intent -> priority
    urgency_cues: tuple[str, ...] = URGENCY_CUES  # words/phrases, case-insensitive, whole words
    urgency_boost: int = 1  # added when the customer's words hold an urgency cue
    frustration_cues: tuple[str, ...] = FRUSTRATION_CUES  # likewise, for frustration
    frustration_boost: int = 1  # added when they hold a frustration cue (or shouting)
    # Intents that say nothing about what the customer needs: a ticket takes the intent of the
    # latest message with another one, when there is such a message.
    generic_intents: tuple[str, ...] = ("human_agent", "greeting", "thanks_goodbye", "oos")
    wait_minutes: tuple[float, ...] = (10.0, 30.0)  # +1 for each of these waited past
    sla_minutes: float = 15.0  # first-response target; a longer wait is a breach

    def __post_init__(self) -> None:
        self.intents = dict(self.intents)
        self.urgency_cues = tuple(self.urgency_cues)
        self.frustration_cues = tuple(self.frustration_cues)
        self.generic_intents = tuple(self.generic_intents)
        self.wait_minutes = tuple(sorted(float(m) for m in self.wait_minutes))
        _check_level("default", self.default)
        for name, value in self.intents.items():
            _check_level(f"intents.{name}", value)
        for name in ("urgency_boost", "frustration_boost"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
                raise ConfigError(f"{name} = {value!r}: give a whole number from 0 to 4.")
        for name in ("urgency_cues", "frustration_cues"):
            bad = [c for c in getattr(self, name) if not isinstance(c, str) or not c.strip()]
            if bad:
                raise ConfigError(f"{name}: {bad[0]!r} is not a word or phrase.")
        if any(m <= 0 for m in self.wait_minutes):
            raise ConfigError(f"wait_minutes = {list(self.wait_minutes)!r}: give minutes > 0.")
        if not self.sla_minutes > 0:
            raise ConfigError(f"sla_minutes = {self.sla_minutes!r}: give minutes > 0.")
        self._urgency = _cue_pattern(self.urgency_cues)
        self._frustration = _cue_pattern(self.frustration_cues)

    @property
    def sla_s(self) -> float:
        """The first-response target in seconds."""
        return self.sla_minutes * 60

    # -- reading ------------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "rules") -> PriorityRules:
        """Rules from a parsed TOML table: `intents` merged over the defaults, the rest
        replacing them. ConfigError names `where` and an unknown key or a bad value."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}.")
        values = dict(data)
        if "intents" in values:
            if not isinstance(values["intents"], Mapping):
                raise ConfigError(f"{where}: [intents] must be a table of intent = priority.")
            values["intents"] = {**_default_intents(), **values["intents"]}
        try:
            return cls(**values)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriorityRules:
        """The rules in the TOML file `path`; without one, `priority.toml` in the user data
        directory when it exists, else the defaults."""
        if path is None:
            from assistant.paths import user_home

            path = user_home() / RULES_FILE
            if not path.is_file():
                return cls()
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: priority rules file not found.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the priority rules ({exc}).") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML ({exc}).") from None
        return cls.from_mapping(data, str(path))

    # -- rating -------------------------------------------------------------------------------

    def cues(self, customer_texts: Iterable[str]) -> Cues:
        """The first urgency and frustration cues in the customer's words.

        A message of three or more shouted words ("WHERE IS MY ORDER") counts as frustration.

        >>> PriorityRules().cues(["Where is it?", "this is RIDICULOUS, I need it today"])
        Cues(urgency='today', frustration='ridiculous')
        """
        urgency = frustration = None
        for text in customer_texts:
            low = text.lower()  # lower-cased patterns on lower-cased text: 4x IGNORECASE's speed
            if urgency is None and self._urgency is not None:
                m = self._urgency.search(low)
                urgency = m.group(0) if m else None
            if frustration is None:
                m = self._frustration.search(low) if self._frustration is not None else None
                if m:
                    frustration = m.group(0)
                elif self.frustration_boost and _shouting(text):
                    frustration = "shouting"
        return Cues(urgency, frustration)

    def rate(
        self,
        intent: str | None,
        customer_texts: Iterable[str] = (),
        waiting_s: float = 0.0,
        *,
        cues: Cues | None = None,
    ) -> Priority:
        """The priority of a ticket about `intent`, whose customer wrote `customer_texts`
        (or whose `cues` were found already) and has waited `waiting_s` seconds."""
        value = self.intents.get(intent or "", self.default)
        name = intent or "no intent"
        parts = [f"{name}: {LABELS[value]} ({value})"]
        found = cues if cues is not None else self.cues(customer_texts)
        if found.urgency and self.urgency_boost:
            value += self.urgency_boost
            parts.append(f'urgency "{found.urgency}" +{self.urgency_boost}')
        if found.frustration and self.frustration_boost:
            value += self.frustration_boost
            parts.append(f'frustration "{found.frustration}" +{self.frustration_boost}')
        passed = [m for m in self.wait_minutes if waiting_s >= m * 60]
        if passed:
            value += len(passed)
            parts.append(f"waiting {waiting_s / 60:.0f} min (over {passed[-1]:g}) +{len(passed)}")
        return Priority(max(LOWEST, min(HIGHEST, value)), " · ".join(parts))


def manual(value: int, agent: str) -> Priority:
    """A priority an agent set by hand.

    >>> manual(4, "ana").reason
    'set to urgent by ana'
    """
    return Priority(value, f"set to {LABELS.get(value, str(value))} by {agent}")


def _check_level(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not LOWEST <= value <= HIGHEST:
        raise ConfigError(
            f"{name} = {value!r}: a priority is a whole number from {LOWEST} (low) to "
            f"{HIGHEST} (critical)."
        )


def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern of the lower-cased cues (for lower-cased text); word cues match whole words
    only ("today" not "todays")."""
    if not cues:
        return None
    parts = []
    for cue in sorted(cues, key=len, reverse=True):  # longest first: "still not" before "not"
        text = re.escape(cue.strip().lower())
        left = r"\b" if cue.strip()[0].isalnum() else ""
        right = r"\b" if cue.strip()[-1].isalnum() else ""
        parts.append(f"{left}{text}{right}")
    return re.compile("|".join(parts))


_SHOUTED = re.compile(r"\b[A-Z]{2,}\b")


def _shouting(text: str) -> bool:
    """Three or more words in capitals, and more of them than lower-case words."""
    shouted = len(_SHOUTED.findall(text))
    return shouted >= 3 and shouted > len(re.findall(r"\b[a-z]{2,}\b", text))
