"""The gate between a retrained candidate and the current version: never a silent regression.

Both are scored on the same frozen evaluation set (`training.retrain`); the candidate is
promoted only when

  1. its macro-F1 is not lower than the current's by more than `macro_f1_tolerance`,
  2. no intent with at least `min_intent_examples` evaluation examples loses more than
     `intent_margin` of F1,
  3. its out-of-scope recall is not lower by more than `oos_recall_tolerance` (0: not at all),
  4. when the ranker was retrained, its Recall@1 is not lower by more than `ranker_tolerance`.

Pure functions over metrics: `judge` returns the verdict with one reason per broken rule (and
the regressed intents), so a refusal says exactly what would have got worse.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from assistant.errors import ConfigError


@dataclass
class GateConfig:
    macro_f1_tolerance: float = 0.01  # the most macro-F1 the candidate may lose
    intent_margin: float = 0.10  # the most F1 any one well-evaluated intent may lose
    min_intent_examples: int = 10  # evaluation examples an intent needs for rule 2 to apply
    oos_recall_tolerance: float = 0.0  # the most out-of-scope recall it may lose
    ranker_tolerance: float = 0.02  # the most ranker Recall@1 it may lose (when retrained)

    def __post_init__(self) -> None:
        for name in ("macro_f1_tolerance", "intent_margin", "oos_recall_tolerance"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"gate {name} must be in [0, 1], got {value!r}")
        if not 0.0 <= self.ranker_tolerance <= 1.0:
            raise ConfigError(
                f"gate ranker_tolerance must be in [0, 1], got {self.ranker_tolerance}"
            )
        if self.min_intent_examples < 1:
            raise ConfigError(
                f"gate min_intent_examples must be >= 1, got {self.min_intent_examples}"
            )


@dataclass
class Verdict:
    """The gate's decision and why."""

    passed: bool
    reasons: list[str] = field(default_factory=list)  # one per broken rule, or why it passed
    regressed: list[dict] = field(default_factory=list)  # {"intent","n","f1_current",...}
    config: dict = field(default_factory=dict)  # the GateConfig it was judged with

    def to_json(self) -> dict:
        return asdict(self)


def _drop(current: float | None, candidate: float | None) -> float | None:
    if current is None or candidate is None:
        return None
    return current - candidate


def judge(
    current: dict,
    candidate: dict,
    per_intent: list[dict],
    cfg: GateConfig,
    ranker_retrained: bool = False,
) -> Verdict:
    """The verdict on `candidate` against `current`.

    `current` / `candidate`: {"macro_f1", "oos_recall", "ranker_recall_at_1", ...} on the
    same evaluation set; `per_intent`: [{"intent", "n", "f1_current", "f1_candidate"}].

    >>> cur = {"macro_f1": 0.90, "oos_recall": 0.8}
    >>> rows = [{"intent": "a", "n": 20, "f1_current": 0.9, "f1_candidate": 0.5}]
    >>> v = judge(cur, {"macro_f1": 0.89, "oos_recall": 0.8}, rows, GateConfig())
    >>> v.passed, v.regressed[0]["intent"]
    (False, 'a')
    """
    reasons: list[str] = []
    drop = _drop(current.get("macro_f1"), candidate.get("macro_f1"))
    if drop is not None and drop > cfg.macro_f1_tolerance + 1e-12:
        reasons.append(
            f"macro-F1 would drop {current['macro_f1']:.4f} -> {candidate['macro_f1']:.4f} "
            f"(-{drop:.4f}, tolerance {cfg.macro_f1_tolerance:.4f})"
        )
    regressed = []
    for row in per_intent:
        d = _drop(row.get("f1_current"), row.get("f1_candidate"))
        if row.get("n", 0) >= cfg.min_intent_examples and d is not None and d > cfg.intent_margin:
            regressed.append(row)
    regressed.sort(key=lambda r: r["f1_candidate"] - r["f1_current"])
    if regressed:
        shown = ", ".join(
            f"{r['intent']} {r['f1_current']:.2f} -> {r['f1_candidate']:.2f} (n={r['n']})"
            for r in regressed[:10]
        )
        more = f" and {len(regressed) - 10} more" if len(regressed) > 10 else ""
        reasons.append(
            f"{len(regressed)} intent(s) would lose more than {cfg.intent_margin:.2f} F1: "
            f"{shown}{more}"
        )
    drop = _drop(current.get("oos_recall"), candidate.get("oos_recall"))
    if drop is not None and drop > cfg.oos_recall_tolerance + 1e-12:
        reasons.append(
            f"out-of-scope recall would drop {current['oos_recall']:.4f} -> "
            f"{candidate['oos_recall']:.4f} (tolerance {cfg.oos_recall_tolerance:.4f})"
        )
    if ranker_retrained:
        drop = _drop(current.get("ranker_recall_at_1"), candidate.get("ranker_recall_at_1"))
        if drop is not None and drop > cfg.ranker_tolerance + 1e-12:
            reasons.append(
                f"ranker Recall@1 would drop {current['ranker_recall_at_1']:.4f} -> "
                f"{candidate['ranker_recall_at_1']:.4f} (tolerance {cfg.ranker_tolerance:.4f})"
            )
    if not reasons:
        reasons.append(
            "passed: macro-F1, every intent with >= "
            f"{cfg.min_intent_examples} evaluation examples, out-of-scope recall"
            + (" and ranker Recall@1" if ranker_retrained else "")
            + " within tolerance"
        )
        return Verdict(True, reasons, [], asdict(cfg))
    return Verdict(False, reasons, regressed, asdict(cfg))
