"""Calibrating the policy: thresholds chosen on validation dialogues for a target precision.

`assistant calibrate --models DIR --data VALIDATION.jsonl [--kb DIR] [--target 0.9]`, in
numbered steps:

  1. data      every customer turn of the validation dialogues that an agent answered next,
               with the true conversation before it as history (teacher forcing: each turn is
               judged on its own, whatever the bot said before)
  2. models    load the engine with the config defaults (no calibration)
  3. evidence  the intent model, the ranker with its bank and the KB on every turn, once
               (`DialogueEngine.evidence_many`, batched, on the backend for batches:
               `kb.encoder.batch_inference`)
  4. judge     does each candidate reply, and the best KB passage, match the true agent reply
               (`training.replay.ReplyJudge`: same template, or all-MiniLM cosine >= 0.60; a
               passage also when its article is the one the exchange is about)
  5. sweep     the reply and KB thresholds on a grid: the pair that answers the most turns at
               answer precision >= target (turns where the out-of-scope class wins get their own
               pair, never lower than the in-scope one); then the clarify mass: the lowest at
               which the two intents offered hold the true one at >= target
  6. check     the policy itself (`DialogueEngine.choose`) at the chosen thresholds should give
               the coverage and precision the sweep computed (a warning, and
               `sweep_agrees: false` in the manifest, when not)
  7. save      `<models>/calibration/manifest.json`: thresholds, the coverage/precision table
               (what each target precision buys, and the handoffs it costs), the data
               fingerprint, the model versions

Handoffs: every turn the thresholds leave unanswered counts towards `handoff_after_low_turns`,
so each row of the table also gives the share of validation dialogues the policy hands to a
person (`handoff_rate`: turns in order, the unhelpful streak carried), and a calibration that
hands off `handoff_warning` more than the defaults says so (a warning, `handoff_warning` in the
manifest's metrics).

The engine applies the thresholds at load (`assistant.calibration`). Turns where the
out-of-scope class wins are answered only at thresholds that keep the target there too, else
never. When no pair reaches the target on the in-scope turns, the most precise pair is kept and
the manifest says `"reached": false`.

Example (the sweep on synthetic scores: three turns answered right above 0.6, one wrong at 0.5):

    >>> s = SubsetScores(np.array([0.9, 0.8, 0.7, 0.5]), np.array([1, 1, 1, 0], bool),
    ...     np.zeros(4, bool), np.zeros(4, bool), np.full(4, -1.0), np.zeros(4, bool))
    >>> best_pair(s, target=0.9, grid=np.array([0.4, 0.6]), min_answers=1)[0]
    0.6
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.errors import ConfigError
from training.data import Dialogue, fingerprint, load_dialogues
from training.replay import (
    MATCH_THRESHOLD,
    ReplyJudge,
    kb_passages,
    quoted_passage,
    smalltalk_match,
)

TARGETS = (0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)  # rows of the coverage/precision table


@dataclass
class CalibrateConfig:
    """Settings of one calibration (`assistant calibrate`)."""

    models: str  # models directory (intent/, ranker/); the calibration is written into it
    data: str  # validation dialogues (JSONL, the training format), not used to train the models
    kb: str | None = None  # KB index the assistant answers with; None: KB thresholds not set
    target: float = 0.9  # answer precision the thresholds must reach on the validation turns
    match_threshold: float = MATCH_THRESHOLD  # judge cosine at which a reply is the true one
    grid_min: float = 0.2  # lowest threshold tried
    grid_max: float = 0.95  # highest threshold tried
    grid_step: float = 0.025  # threshold grid step
    min_answers: int = 20  # a threshold pair answering fewer turns is too noisy to trust
    min_clarify: int = 10  # fewer labelled clarify turns than this: the clarify mass is kept
    # Warn when the chosen thresholds hand this much more of the validation dialogues to a
    # person than the defaults do (absolute share): fallbacks count towards the handoff streak.
    handoff_warning: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.target <= 1:
            raise ConfigError(f"target must be in (0, 1], got {self.target!r}")
        if not 0 < self.match_threshold <= 1:
            raise ConfigError(f"match_threshold must be in (0, 1], got {self.match_threshold!r}")
        if not -1 <= self.grid_min < self.grid_max <= 1 or self.grid_step <= 0:
            raise ConfigError(
                f"grid {self.grid_min!r}..{self.grid_max!r} step {self.grid_step!r}: give "
                "-1 <= grid_min < grid_max <= 1 and a positive step"
            )
        if self.min_answers < 1 or self.min_clarify < 1:
            raise ConfigError("min_answers and min_clarify must be >= 1")
        if not 0 <= self.handoff_warning <= 1:
            raise ConfigError(f"handoff_warning must be in [0, 1], got {self.handoff_warning!r}")

    def grid(self) -> np.ndarray:
        n = int(round((self.grid_max - self.grid_min) / self.grid_step)) + 1
        return np.round(np.linspace(self.grid_min, self.grid_max, n), 4)


@dataclass
class Turn:
    """One validation turn: the history, the message, the true reply and its labelled intent."""

    history: list[tuple[str, str]]
    message: str
    true_reply: str
    gold_intent: str | None
    dialogue: str = ""  # the dialogue's id: turns of one dialogue are consecutive, in order


def validation_turns(dialogues: list[Dialogue]) -> list[Turn]:
    """Every customer turn answered directly by an agent, with the true turns before it.

    >>> from training.data import Turn as T
    >>> d = Dialogue("d1", [T("customer", "hi", "greeting"), T("agent", "Hello!"),
    ...                     T("customer", "bye")])
    >>> [(t.message, t.true_reply, len(t.history)) for t in validation_turns([d])]
    [('hi', 'Hello!', 0)]
    """
    out = []
    for d in dialogues:
        for i, t in enumerate(d.turns[:-1]):
            nxt = d.turns[i + 1]
            if t.role == "customer" and nxt.role == "agent":
                history = [(u.role, u.text) for u in d.turns[:i]]
                out.append(Turn(history, t.text, nxt.text, t.intent, d.id))
    return out


@dataclass
class SubsetScores:
    """Per-turn arrays of one subset of turns (in scope, or out-of-scope class), for the sweep."""

    reply: np.ndarray  # best candidate's score (-1: none)
    reply_ok: np.ndarray  # the best candidate matches the true reply
    by_intent: np.ndarray  # the intent rule answers when the best score is under the bar
    by_intent_ok: np.ndarray  # ... and its reply matches
    passage: np.ndarray  # best KB passage's score (-1: none)
    passage_ok: np.ndarray  # the passage matches

    def take(self, mask: np.ndarray) -> SubsetScores:
        return SubsetScores(*(getattr(self, f)[mask] for f in self.__dataclass_fields__))


def outcome(s: SubsetScores, r: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(answered, correct) counts for every threshold pair: r, k of shape (P,) -> (P,), (P,).

    The answer step of the policy (`DialogueEngine._answer`): the best reply at >= r, else the
    intent rule, else the best passage at >= k.
    """
    by_reply = s.reply[None, :] >= r[:, None]  # (P, N)
    by_intent = ~by_reply & s.by_intent[None, :]
    by_kb = ~by_reply & ~by_intent & (s.passage[None, :] >= k[:, None])
    answered = (by_reply | by_intent | by_kb).sum(1)
    correct = ((by_reply & s.reply_ok) | (by_intent & s.by_intent_ok) | (by_kb & s.passage_ok)).sum(
        1
    )
    return answered, correct


def best_pair(
    s: SubsetScores,
    target: float,
    grid: np.ndarray,
    min_answers: int,
    floor: tuple[float, float] = (-1.0, -1.0),
    otherwise: str = "precise",
    kb_grid: np.ndarray | None = None,
) -> tuple[float, float, int, int, bool]:
    """(r, k, answered, correct, reached): the pair of `grid` values (each >= `floor`) that
    answers the most turns, at least `min_answers`, at precision >= `target`; ties go to the
    more precise, then the higher pair.

    When no pair reaches the target (`reached` False): with `otherwise="precise"`, the most
    precise pair answering >= `min_answers` turns; with "nothing", or when no pair answers that
    many, bars nothing reaches (1.0, and the highest KB bar or 1.0), which answer nothing.
    `kb_grid`: the KB bars to try (default `grid`).
    """
    kb_grid = grid if kb_grid is None else kb_grid
    off = 1.0, max(1.0, float(kb_grid.max()))  # bars nothing reaches
    rs, ks = np.meshgrid(grid[grid >= floor[0]], kb_grid[kb_grid >= floor[1]], indexing="ij")
    r, k = rs.ravel(), ks.ravel()
    if len(r) == 0 or len(s.reply) == 0:
        return *off, 0, 0, False
    answered, correct = outcome(s, r, k)
    precision = correct / np.maximum(answered, 1)
    enough = answered >= min_answers
    ok = enough & (precision >= target - 1e-12)
    if ok.any():
        order = np.lexsort((r + k, precision, answered))[::-1]  # most answers first
        i = next(i for i in order if ok[i])
        return float(r[i]), float(k[i]), int(answered[i]), int(correct[i]), True
    if otherwise != "precise" or not enough.any():
        return *off, 0, 0, False
    order = np.lexsort((r + k, answered, precision))[::-1]  # most precise first
    i = next(i for i in order if enough[i])
    return float(r[i]), float(k[i]), int(answered[i]), int(correct[i]), False


def calibrate(
    cfg: CalibrateConfig,
    log: Callable[[str], None] = print,
    save: bool = True,
    engine=None,
    judge: ReplyJudge | None = None,
) -> dict:
    """Choose the thresholds (module docstring) and, with `save`, write them into the models
    directory; returns the calibration manifest's fields. `engine`: one already loaded from
    `cfg.models` and `cfg.kb` with `calibration=False` (its config is the starting point)."""
    from assistant.calibration import CALIBRATION_DIR, save_calibration
    from assistant.engine import DialogueEngine
    from kb.manifest import library_versions

    t0 = time.time()
    # 1. data (read first: a bad file is reported before seconds of model loading)
    dialogues = load_dialogues(cfg.data)
    turns = validation_turns(dialogues)
    if not turns:
        raise ConfigError(
            f"{cfg.data}: no customer turn followed by an agent reply: calibration needs "
            "validation dialogues in the training format."
        )
    log(f"[1/4] {len(turns)} validation turns from {len(dialogues)} dialogues ({cfg.data})")
    # 2. models
    if engine is None:
        import kb.encoder as encoders
        from training.threads import free_threads

        before = encoders.inference_threads()
        encoders.set_inference_threads(free_threads())  # a busy core elsewhere slows every op
        try:
            # One pass over thousands of turns: the backend for batches (torch where installed,
            # in bf16 where the CPU has it), 20% faster than ONNX Runtime here, same thresholds
            # (docs/benchmarks.md, "Demo first run"); ASSISTANT_BACKEND still forces one.
            with encoders.batch_inference():
                engine = DialogueEngine.load(cfg.models, cfg.kb, calibration=False)
        finally:
            encoders.set_inference_threads(before)
    defaults = engine.config
    judge = judge or ReplyJudge(threshold=cfg.match_threshold)
    if engine.kb is not None and not judge.has_kb:  # KB answers are judged by their article
        judge.use_kb(kb_passages(engine.kb))
    # 3. evidence
    evidence = engine.evidence_many([(t.history, t.message) for t in turns])
    log(f"[2/4] models ran on every turn ({time.time() - t0:.0f}s)")
    # 4. judge
    scores, pre_empted, oos_class = _scores(engine, evidence, turns, judge)
    log(f"[3/4] replies judged against the agents' ({time.time() - t0:.0f}s)")
    # 5. sweep
    chosen, table, reached = _sweep(cfg, scores, pre_empted, oos_class, engine.kb is not None)
    chosen["clarify_min_mass"], clarify = _clarify_mass(cfg, engine, evidence, turns, chosen)
    # 6. check
    calibrated = engine.config.calibrated(chosen)
    check = policy_metrics(engine, evidence, turns, calibrated, judge)
    expected = _row_metrics(scores, pre_empted, oos_class, chosen)
    agree = check["answered"] == expected["answered"] and check["correct"] == expected["correct"]
    if not agree:  # reported, not fatal: the policy's own figures are the ones recorded
        log(
            f"warning: the sweep predicted {expected}, the policy gave answered "
            f"{check['answered']}, correct {check['correct']}: the sweep no longer models "
            "DialogueEngine._answer exactly (training/calibrate.py)"
        )
    before = policy_metrics(engine, evidence, turns, defaults, judge)
    # What each row of the table buys in handoffs: the row's thresholds and its own clarify
    # mass make a whole policy, replayed dialogue by dialogue with the unhelpful streak.
    for row in table:
        ths = {k: row[k] for k in chosen if k in row}
        row_cfg = replace(cfg, target=row["target"])
        ths["clarify_min_mass"] = _clarify_mass(row_cfg, engine, evidence, turns, ths)[0]
        row["clarify_min_mass"] = ths["clarify_min_mass"]
        row["handoff"] = handoff_rate(engine, evidence, turns, defaults.calibrated(ths))
    warning = handoff_note(before["handoff"], check["handoff"], cfg.handoff_warning)
    if warning:
        log(f"warning: {warning}")
    log(f"[4/4] thresholds chosen ({time.time() - t0:.0f}s)")
    fields = {
        "thresholds": chosen,
        "target": cfg.target,
        "reached": reached,
        "metrics": {
            "calibrated": check,
            "defaults": before,
            "clarify": clarify,
            "sweep_agrees": agree,
            "handoff_warning": warning,
        },
        "table": table,
        "match_threshold": judge.threshold,
        "judge": judge.describe(),
        "data": {
            "path": str(cfg.data),
            "sha256": fingerprint(cfg.data),
            "dialogues": len(dialogues),
            "turns": len(turns),
        },
        "models": {k: v for k, v in engine.versions.items() if k in ("intent", "ranker")},
        "kb": engine.versions.get("kb"),
        "config": {
            k: getattr(cfg, k)
            for k in (
                "grid_min",
                "grid_max",
                "grid_step",
                "min_answers",
                "min_clarify",
                "handoff_warning",
            )
        },
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "library_versions": library_versions(),
    }
    if save:  # beside intent/ and ranker/, where the engine loads them from
        where = engine.models_dir or cfg.models
        save_calibration(where, **fields)
        log(f"written to {Path(where) / CALIBRATION_DIR / 'manifest.json'}")
    return fields


def _scores(engine, evidence, turns, judge: ReplyJudge):
    """SubsetScores for all turns, which turns the policy answers without thresholds (handoff,
    nothing to answer), and which the out-of-scope class wins."""
    from assistant.engine import is_oos_class
    from assistant.kb_answer import kb_answer

    # Bars no score reaches: what the policy does then (a handoff, nothing to answer, the
    # intent rule) does not depend on the thresholds being swept.
    never = replace(
        engine.config,
        reply_threshold=1.0,
        reply_threshold_oos=1.0,
        kb_threshold=1.0,
        kb_threshold_oos=1.0,
        handoff_after_low_turns=10**6,
    )
    n = len(turns)
    reply = np.full(n, -1.0)
    passage = np.full(n, -1.0)
    by_intent = np.zeros(n, bool)
    pre_empted = np.zeros(n, bool)
    oos_class = np.zeros(n, bool)
    pairs: list[tuple[str, str]] = []
    where: dict[tuple[str, int], int] = {}  # ("reply"|"intent", turn) -> pair index
    quoted: dict[int, object] = {}  # turn -> the passage a KB answer would quote

    def pair(kind: str, i: int, text: str) -> None:
        where[(kind, i)] = len(pairs)
        pairs.append((text, turns[i].true_reply))

    for i, ev in enumerate(evidence):
        oos_class[i] = is_oos_class(ev.prediction, ev.oos_label)
        d = engine.choose(ev, 0, never)
        pre_empted[i] = d.source == "handoff" or d.reason.startswith("nothing to answer")
        if ev.candidates and ev.candidates[0].sendable:  # agent-only replies never answer
            reply[i] = ev.candidates[0].score
            pair("reply", i, ev.candidates[0].text)
        if d.source == "ranker":  # the intent rule answered under bars no reply reaches
            by_intent[i] = True
            pair("intent", i, d.reply)
        if ev.passages:
            passage[i] = ev.passages[0].score
            # the passage a KB answer quotes (the one that answers, not always the first)
            quoted[i] = kb_answer(ev.passages, ev.message)[1]
    ok = judge.matches(pairs) if pairs else np.zeros(0, bool)
    kb_turns = sorted(quoted)
    passage_ok = np.zeros(n, bool)
    if kb_turns:
        exchanges = [(turns[i].message, turns[i].true_reply) for i in kb_turns]
        passage_ok[kb_turns] = judge.judge_kb([quoted[i] for i in kb_turns], exchanges)[2]

    def flags(kind: str) -> np.ndarray:
        if kind == "passage":
            return passage_ok
        return np.array(
            [bool(ok[where[(kind, i)]]) if (kind, i) in where else False for i in range(n)]
        )

    def small(kind: str) -> np.ndarray:  # small talk answered with a reply of its intent
        out = np.zeros(n, bool)
        for i, (ev, t) in enumerate(zip(evidence, turns)):
            if (kind, i) in where:
                text = pairs[where[(kind, i)]][0]
                out[i] = smalltalk_match(
                    t.gold_intent, text, ev.candidates, engine.config.smalltalk_intents
                )
        return out

    scores = SubsetScores(
        reply,
        flags("reply") | small("reply"),
        by_intent,
        flags("intent") | small("intent"),
        passage,
        flags("passage"),
    )
    return scores, pre_empted, oos_class


def _sweep(cfg, scores, pre_empted, oos_class, has_kb):
    """The chosen thresholds, the coverage/precision table and whether the target was met."""
    # 1.0 and 2.0 are "off": no reply scores above 1, no KB passage above 2.
    grid = np.union1d(cfg.grid(), [1.0])
    kb_grid = np.union1d(cfg.grid(), [2.0])
    ins = scores.take(~pre_empted & ~oos_class)
    oos = scores.take(~pre_empted & oos_class)
    oos.by_intent = np.zeros_like(oos.by_intent)  # the intent rule never answers these
    n = len(pre_empted)
    table, chosen, reached = [], {}, True
    for target in sorted({*TARGETS, cfg.target}):
        # Without a KB every passage scores -1: the KB bar changes nothing and is not kept.
        r, k, a1, c1, reached_here = best_pair(ins, target, grid, cfg.min_answers, kb_grid=kb_grid)
        # Out-of-scope turns are answered only where that is as precise; else never.
        ro, ko, a2, c2, _ = best_pair(
            oos, target, grid, cfg.min_answers, (r, k), "nothing", kb_grid=kb_grid
        )
        answered, correct = a1 + a2, c1 + c2
        row = {
            "target": target,
            "reply_threshold": r,
            "kb_threshold": k,
            "reply_threshold_oos": ro,
            "kb_threshold_oos": ko,
            "coverage": round(answered / n, 4),
            "precision": round(correct / answered, 4) if answered else None,
            "answered": answered,
            "reached": reached_here,
        }
        table.append(row)
        if target == cfg.target:
            chosen = {
                "reply_threshold": r,
                "reply_threshold_oos": ro,
                "kb_threshold": k,
                "kb_threshold_oos": ko,
            }
            if not has_kb:  # no KB to calibrate on: keep the defaults for it
                chosen.pop("kb_threshold")
                chosen.pop("kb_threshold_oos")
            reached = reached_here
    return chosen, table, reached


def _row_metrics(scores, pre_empted, oos_class, chosen) -> dict:
    """Answered and correct turns at `chosen`, as the sweep computes them."""
    out = {"answered": 0, "correct": 0}
    for mask, r, k in (
        (~pre_empted & ~oos_class, "reply_threshold", "kb_threshold"),
        (~pre_empted & oos_class, "reply_threshold_oos", "kb_threshold_oos"),
    ):
        s = scores.take(mask)
        if mask is not None and r.endswith("oos"):
            s.by_intent = np.zeros_like(s.by_intent)
        a, c = outcome(s, np.array([chosen[r]]), np.array([chosen.get(k, 1.0)]))
        out["answered"] += int(a[0])
        out["correct"] += int(c[0])
    return out


def _clarify_mass(cfg, engine, evidence, turns, chosen) -> tuple[float, dict]:
    """The lowest top-2 mass at which a clarifying question holds the true intent at the
    target precision, on the labelled turns the chosen thresholds leave unanswered."""
    cal = engine.config.calibrated(chosen)
    hits, masses = [], []
    for ev, t in zip(evidence, turns):
        if t.gold_intent is None:
            continue
        top = ev.prediction.top
        if len(top) < 2 or ev.oos_label in (top[0][0], top[1][0]):
            continue
        if top[0][1] >= cal.intent_confidence:
            continue
        d = engine.choose(ev, 0, replace(cal, clarify_min_mass=0.0))
        if d.source != "clarify":
            continue  # answered, handed off, or nothing to answer: clarify never comes up
        masses.append(top[0][1] + top[1][1])
        hits.append(t.gold_intent in (top[0][0], top[1][0]))
    m, h = np.array(masses), np.array(hits, bool)
    info = {"labelled_candidates": len(m)}
    if len(m) < cfg.min_clarify:
        info["note"] = f"fewer than {cfg.min_clarify} labelled turns: the default is kept"
        return engine.config.clarify_min_mass, info
    for mass in cfg.grid():
        sel = m >= mass
        if sel.sum() >= cfg.min_clarify and h[sel].mean() >= cfg.target:
            info.update(asked=int(sel.sum()), precision=round(float(h[sel].mean()), 4))
            return float(mass), info
    info["note"] = "no mass reaches the target: clarifying questions are not asked"
    return 1.0, info


def policy_metrics(engine, evidence, turns, config, judge: ReplyJudge) -> dict:
    """Coverage, precision and clarify share of the policy itself (`choose`) under `config`
    on teacher-forced turns."""
    decisions = [engine.choose(ev, 0, config) for ev in evidence]
    replies: list[tuple[str, str]] = []  # (reply, true reply) of the bank answers
    small: list[bool] = []
    quoted, exchanges = [], []  # the KB answers' passages, (message, true reply)
    for d, ev, t in zip(decisions, evidence, turns):
        if d.source == "ranker":
            replies.append((d.reply, t.true_reply))
            small.append(
                smalltalk_match(t.gold_intent, d.reply, ev.candidates, config.smalltalk_intents)
            )
        elif d.source == "kb" and d.citations:
            quoted.append(quoted_passage(d.reply, d.citations))
            exchanges.append((t.message, t.true_reply))
    n = len(turns)
    judged = {
        "ranker": judge.matches(replies) | np.array(small, bool) if replies else np.zeros(0),
        "kb": judge.judge_kb(quoted, exchanges)[2] if quoted else np.zeros(0),
    }
    answered = sum(len(ok) for ok in judged.values())
    correct = sum(int(ok.sum()) for ok in judged.values())
    sources: dict[str, int] = {}
    for d in decisions:
        sources[d.source] = sources.get(d.source, 0) + 1
    return {
        "turns": n,
        "answered": answered,
        "correct": correct,
        "coverage": round(answered / n, 4) if n else None,
        "precision": round(correct / answered, 4) if answered else None,
        "precision_by_source": {
            s: round(float(np.mean(ok)), 4) if len(ok) else None for s, ok in judged.items()
        },
        "sources": sources,
        "handoff": handoff_rate(engine, evidence, turns, config),
    }


def handoff_rate(engine, evidence, turns, config) -> float | None:
    """Share of the validation dialogues the policy under `config` hands to a person.

    Each dialogue's turns go through `choose` in order with the unhelpful streak carried from
    one turn to the next (a fallback, clarify or out-of-scope reply, the same question again,
    frustration), as the log counts it; after a handoff a person has the dialogue. The history
    stays the true conversation (teacher forcing), so this estimates the replay's handoff rate
    rather than reproducing it; it shows what the thresholds cost in handoffs, since every
    turn they leave unanswered counts towards `handoff_after_low_turns`.

    >>> handoff_rate(None, [], [], None) is None
    True
    """
    handed: dict[str, bool] = {}
    streak, current = 0, None
    for ev, t in zip(evidence, turns):
        if t.dialogue != current or current is None:
            current, streak = t.dialogue, 0
            handed.setdefault(current, False)
        if handed[current]:
            continue  # a person has this dialogue from here
        d = engine.choose(ev, streak, config)
        if d.handoff:
            handed[current] = True
        # `choose` marks every unhelpful reply low_confidence (the log's streak counts it)
        streak = streak + 1 if d.low_confidence else 0
    return round(sum(handed.values()) / len(handed), 4) if handed else None


def handoff_note(before: float | None, after: float | None, margin: float) -> str | None:
    """A warning when the calibrated policy hands `margin` more of the dialogues to a person
    than the defaults (None: no warning).

    >>> "40.0% of validation dialogues" in handoff_note(0.14, 0.40, 0.10)
    True
    >>> handoff_note(0.14, 0.20, 0.10) is None
    True
    """
    if before is None or after is None or after - before < margin - 1e-12:
        return None
    return (
        f"the calibrated thresholds hand {after:.1%} of validation dialogues to a person "
        f"(defaults: {before:.1%}): unanswered turns count towards handoff_after_low_turns; "
        "a lower target answers more"
    )


def format_report(fields: dict) -> str:
    """The calibration as text: chosen thresholds, before/after (coverage, precision and
    handoffs side by side), the coverage/precision table."""
    th = fields["thresholds"]
    m = fields["metrics"]

    def pct(v) -> str:
        return "-" if v is None else f"{v:.3f}"

    lines = [
        f"target answer precision {fields['target']} "
        f"({'reached' if fields['reached'] else 'NOT reached: the most precise pair is used'})",
        "thresholds: " + ", ".join(f"{k} {v:.3f}" for k, v in th.items()),
        "",
        f"{'validation turns':<24}{'coverage':>10}{'precision':>11}{'ranker':>8}{'kb':>7}"
        f"{'handoff*':>10}",
    ]
    for name in ("defaults", "calibrated"):
        row = m[name]
        by = row.get("precision_by_source") or {}
        lines.append(
            f"{name:<24}{row['coverage']:>10.3f}{pct(row['precision']):>11}"
            f"{pct(by.get('ranker')):>8}{pct(by.get('kb')):>7}{pct(row.get('handoff')):>10}"
        )
    if m.get("handoff_warning"):
        lines.append(f"WARNING: {m['handoff_warning']}")
    lines += [
        "",
        "what each target precision buys (validation turns):",
        f"{'target':>7}{'reply':>8}{'kb':>7}{'reply_oos':>10}{'kb_oos':>8}"
        f"{'coverage':>10}{'precision':>11}{'handoff*':>10}",
    ]
    for row in fields["table"]:
        mark = "" if row["reached"] else "  (not reached)"
        lines.append(
            f"{row['target']:>7.2f}{row['reply_threshold']:>8.3f}{row['kb_threshold']:>7.3f}"
            f"{row['reply_threshold_oos']:>10.3f}{row['kb_threshold_oos']:>8.3f}"
            f"{row['coverage']:>10.3f}{pct(row['precision']):>11}{pct(row.get('handoff')):>10}"
            f"{mark}"
        )
    lines.append(
        "* share of validation dialogues handed to a person, turns answered in order with the "
        "unhelpful streak carried"
    )
    return "\n".join(lines)


__all__ = [
    "CalibrateConfig",
    "SubsetScores",
    "Turn",
    "best_pair",
    "calibrate",
    "format_report",
    "handoff_note",
    "handoff_rate",
    "outcome",
    "policy_metrics",
    "validation_turns",
]
