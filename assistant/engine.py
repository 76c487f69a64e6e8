"""The dialogue engine: for each customer message, predict, retrieve, rank, and choose.

No UI and no storage here: `decide` takes the conversation so far and returns a `Decision`.
`assistant.service` adds the conversation log, tickets and timing around it. `decide` is two
steps: `evidence` (the three models: intent, reply candidates, KB passages) and `choose` (the
policy, pure and cheap), so calibration (training/calibrate.py) replays the policy under many
thresholds on evidence computed once.

The policy, in order (every reply records its reason):
  1. handoff   the customer asks for a person or wants to make a complaint, the intent is
               configured as always-human, the customer says this is not helping after an
               unhelpful reply, or this would be the N-th unhelpful turn in a row
  2. fallback  nothing to answer in the message ("hmm", "??", keyboard mash)
  3. ranker    the best reply from the response bank scores >= reply_threshold (a higher bar
               when the out-of-scope class wins); or, for a confidently predicted small-talk
               intent (a greeting, thanks and goodbye), a reply agents gave for that intent
               scores >= reply_threshold_intent
  4. kb        the best knowledge-base passage scores >= kb_threshold: answer with it, cited
  5. clarify   two in-scope intents are plausible and close: ask which one
  6. oos       the out-of-scope class wins: a graceful "that's outside what I can help with"
  7. fallback  no intent is sure enough: ask to rephrase

Unhelpful turns are fallback, clarify and oos replies, replies the customer rated bad, the
same question again and frustration (`assistant.signals`); the count before each message is
derived from the log (`assistant.log.state.unhelpful_streak`), live and after a reload alike.
A message the intent model rejects only for low confidence (its best in-scope intent is below
the model's threshold, the out-of-scope class did not win) is uncertain, not out of scope: it
keeps that intent and its confidence, is held to the normal bars, and is clarified or asked
again rather than told it is outside what the assistant does.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from assistant.config import EngineConfig
from assistant.grounding import Grounds, kb_grounds
from assistant.kb_answer import kb_answer
from assistant.placeholders import extract_slots
from assistant.reply import Candidate, Citation, Decision
from assistant.signals import (
    asks_for_human,
    customer_signal,
    is_complaint,
    is_frustrated,
    is_noise,
)

UNHELPFUL_SOURCES = ("clarify", "fallback", "oos")  # replies that count towards a handoff
MAX_CONTEXT_THREADS = 4  # a 48-token encode gains little from more (measured up to 2 cores)


def default_context_threads(backend: str) -> int | None:
    """Intra-op threads for the ranker's encoder, which encodes the turn's context: the
    turn's critical path, while the intent model's short message encodes beside it on one
    thread (`DialogueEngine.evidence`). On ONNX Runtime the context gets every core this
    process may use, at most `MAX_CONTEXT_THREADS`: its calling thread and a worker share the
    matrix products, and the worker takes the second core once the intent encode is done. On
    the 2-core VM that took the per-turn p95 from 27.2 to 23.6 ms (docs/benchmarks.md, "Lean
    runtime"), and was no slower with the other core kept busy by another process. Torch has
    one thread count per process: None leaves it as it is.

    >>> default_context_threads("torch") is None
    True
    """
    if backend != "onnx":
        return None
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_CONTEXT_THREADS))


@dataclass
class Evidence:
    """What the three models say about one message (the policy's input)."""

    history: list[tuple[str, str]]  # the conversation before the message, (role, text) oldest first
    message: str
    prediction: object  # assistant.intent.IntentPrediction
    candidates: list[Candidate] = field(default_factory=list)  # best first
    passages: list[Citation] = field(default_factory=list)  # best first
    oos_label: str = "oos"


def is_oos_class(prediction, oos_label: str) -> bool:
    """The out-of-scope class itself won (not a low-confidence rejection of an intent)."""
    top = prediction.top
    return bool(prediction.out_of_scope and top and top[0][0] == oos_label)


def humanize(label: str) -> str:
    """'order_status' -> 'order status'."""
    return label.replace("_", " ").replace("-", " ")


class DialogueEngine:
    """Intent classifier + response ranker (+ bank) + knowledge base + policy.

    >>> engine = DialogueEngine.load("models", kb_dir=None)  # doctest: +SKIP
    >>> engine.decide([], "where is my parcel?").source  # doctest: +SKIP
    'ranker'
    """

    def __init__(self, intent, ranker, bank, kb=None, config: EngineConfig | None = None) -> None:
        self.intent = intent
        self.ranker = ranker
        self.bank = bank
        self.kb = kb
        self.config = config or EngineConfig()
        # When the KB was embedded with the ranker's encoder, one forward pass serves both.
        self._kb_shares_ranker = kb is not None and _same_model(kb, ranker)
        # The intent model runs beside the ranker: two small forward passes on two cores.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intent")
        # The whole KB's grounds, read in that thread from now on (~40 ms), not in a first turn
        self._kb_grounds = self._pool.submit(kb_grounds, kb) if kb is not None else None
        self.calibration: dict | None = None  # the calibration applied to `config`, if any
        self.calibration_note = "no calibration: config defaults"  # what `load` did about it
        self.models_dir = None  # the directory `load` read the models from (None: built here)

    @classmethod
    def load(
        cls,
        models_dir,
        kb_dir=None,
        config: EngineConfig | None = None,
        *,
        calibration: bool = True,
        context_threads: int | None = None,
    ) -> DialogueEngine:
        """Load `models_dir/intent`, `models_dir/ranker` and optionally a KB index.

        `models_dir` may hold versions: then the current one is loaded (`assistant.versions`).
        With `calibration` (the default), thresholds chosen by `assistant calibrate` for these
        models (`calibration/` beside `intent/` and `ranker/`) replace the config defaults
        (see `assistant.calibration`); `calibration=False` answers with `config` as given.
        `context_threads`: the ranker encoder's intra-op threads (default:
        `default_context_threads`); the intent model keeps the process's count.
        """
        from pathlib import Path

        from assistant.bank import ResponseBank
        from assistant.intent import IntentClassifier
        from assistant.ranker import ResponseRanker
        from assistant.versions import resolve_models
        from kb.encoder import resolve_backend

        resolved = resolve_models(models_dir)  # a versioned directory: its current version
        models = resolved.path
        # On the onnx backend the two models load side by side: checksums (hashlib) and ONNX
        # Runtime's session set-up release the GIL, so on two cores this takes the time of the
        # slower one. Not on torch: transformers' lazy imports are not safe from two threads.
        backend = resolve_backend()
        workers = 1 if backend == "onnx" else 0
        if context_threads is None:
            context_threads = default_context_threads(backend)
        with ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="load") as pool:
            if workers:
                loading = pool.submit(IntentClassifier.load, models / "intent")
            ranker = ResponseRanker.load(models / "ranker", threads=context_threads)
            bank = ResponseBank.load(models / "ranker")
            intent = loading.result() if workers else IntentClassifier.load(models / "intent")
        _check_bank_width(bank, ranker)
        kb = None
        if kb_dir is not None:
            from kb import KnowledgeBase

            kb_dir = Path(kb_dir).expanduser()
            kb = KnowledgeBase.load(kb_dir, model_path=_kb_model(kb_dir, ranker))
        engine = cls(intent, ranker, bank, kb, config)
        engine.model_version = resolved.version
        engine.models_dir = models  # where intent/ and ranker/ (and calibration/) were found
        if calibration:
            engine.apply_calibration(models)
        return engine

    def apply_calibration(self, models_dir) -> None:
        """Use the thresholds calibrated for these models in `models_dir`, if there are any."""
        from assistant.calibration import calibration_dir, load_calibration, stale_reason

        found = load_calibration(models_dir)
        if found is None:
            return
        stale = stale_reason(found, self.versions)
        if stale:
            self.calibration_note = (
                f"calibration in {calibration_dir(models_dir)} not applied ({stale}): "
                "config defaults; recalibrate with `assistant calibrate`"
            )
            return
        self.config = self.config.calibrated(found["thresholds"])
        self.calibration = found
        self.calibration_note = (
            f"calibrated for answer precision {found.get('target')} ({found.get('created', '?')})"
        )

    @property
    def kb_shares_ranker(self) -> bool:
        """Whether the KB was embedded with the ranker's encoder: then the ranker's context
        vector is the KB's dense query too (one forward pass for both)."""
        return self._kb_shares_ranker

    @property
    def versions(self) -> dict[str, str]:
        v = {"intent": self.intent.version, "ranker": self.ranker.version}
        if getattr(self, "model_version", None):  # the models directory's version id
            v["version"] = self.model_version
        if self.kb is not None:
            v["kb"] = str(getattr(self.kb, "built_at", "") or getattr(self.kb, "path", ""))
        return v

    # -- the three models ---------------------------------------------------------------------
    def _retrieve(self, history: list[tuple[str, str]], message: str):
        """Context embedding for the ranker and KB passages for the message."""
        ctx_text = self.ranker.context_text([*history, ("customer", message)])
        ctx_emb = self.ranker.encode_contexts([ctx_text])[0]
        return ctx_emb, self._passages(ctx_emb, message)

    def _passages(self, ctx_emb: np.ndarray, message: str) -> list[Citation]:
        if self.kb is None:
            return []
        if self._kb_shares_ranker:
            # The context (newest turn first) is the dense query too, so a follow-up such as
            # "and how long does that take?" is searched with what it refers to; the keyword
            # part of the search uses the message alone.
            query = self.ranker.dense_part(ctx_emb)
            return self.kb.search_embedding(query, k=self.config.kb_k, text=message)
        return self.kb.search(message, k=self.config.kb_k)

    def _candidates(
        self,
        ctx_emb: np.ndarray,
        slots: dict[str, str],
        customer: list[str] | None = None,
        passages: list[Citation] | None = None,
    ) -> list[Candidate]:
        """Ranked bank replies: first those the bot may send (filled from `slots`, every
        specific grounded in the `customer`'s messages or the KB), then agent-only ones as
        suggestions for a human (`Candidate.sendable` False). See `ResponseBank.candidates`."""
        grounds = Grounds.of(customer or [])
        if self.kb is not None:
            grounds.base = self.whole_kb_grounds()
            if not grounds.base:  # a KB that cannot be read whole: this turn's passages
                grounds.add(f"{p.title}. {p.section}. {p.text}" for p in passages or [])
        return self.bank.candidates(ctx_emb, slots, grounds, self.config.n_candidates)

    def whole_kb_grounds(self) -> Grounds | None:
        """`assistant.grounding.kb_grounds` of the engine's KB (None without one): read once,
        in the engine's worker thread since the engine was made; waits for it if need be."""
        return self._kb_grounds.result() if self._kb_grounds is not None else None

    def evidence(self, history: list[tuple[str, str]], message: str) -> Evidence:
        """What the intent model, the ranker (with the bank) and the KB say about `message`."""
        intent = self._pool.submit(self.intent.predict, [message], 3)
        ctx_emb, passages = self._retrieve(history, message)
        customer = [t for r, t in history if r == "customer"] + [message]
        # the candidates need no intent: ranked while the intent model may still be running
        candidates = self._candidates(ctx_emb, extract_slots(customer), customer, passages)
        pred = intent.result()[0]
        return Evidence(history, message, pred, candidates, passages, self.intent.oos_label)

    def evidence_many(
        self, items: list[tuple[list[tuple[str, str]], str]], batch_size: int = 64
    ) -> list[Evidence]:
        """`evidence` for many (history, message) items, the encoders run in batches (replays
        and calibration: the same results as one at a time, several times faster)."""
        out: list[Evidence] = []
        for s in range(0, len(items), batch_size):
            chunk = items[s : s + batch_size]
            messages = [m for _, m in chunk]
            preds = self.intent.predict(messages, 3)
            contexts = [self.ranker.context_text([*h, ("customer", m)]) for h, m in chunk]
            ctx = self.ranker.encode_contexts(contexts)
            for (history, message), pred, ctx_emb in zip(chunk, preds, ctx):
                customer = [t for r, t in history if r == "customer"] + [message]
                passages = self._passages(ctx_emb, message)
                cands = self._candidates(ctx_emb, extract_slots(customer), customer, passages)
                out.append(Evidence(history, message, pred, cands, passages, self.intent.oos_label))
        return out

    # -- the policy ---------------------------------------------------------------------------
    def decide(self, history: list[tuple[str, str]], message: str, low_streak: int = 0) -> Decision:
        """Choose the reply to `message` given earlier (role, text) turns, oldest first, and
        the number of unhelpful turns in a row before it (`low_streak`)."""
        return self.choose(self.evidence(history, message), low_streak)

    def choose(
        self, ev: Evidence, low_streak: int = 0, config: EngineConfig | None = None
    ) -> Decision:
        """The policy over `ev` (module docstring), with `config` instead of the engine's."""
        cfg = config or self.config
        pred, message = ev.prediction, ev.message
        oos_class = is_oos_class(pred, ev.oos_label)
        if pred.out_of_scope and not oos_class and pred.top:
            # Rejected for low confidence only: keep the intent it is unsure about.
            intent, confidence = pred.top[0]
        else:
            intent, confidence = pred.label, pred.confidence
        base = dict(
            intent=intent,
            confidence=confidence,
            top_intents=list(pred.top),
            candidates=ev.candidates,
            citations=[],
        )

        def handoff(reason: str, **flags) -> Decision:
            return Decision(cfg.handoff_message, "handoff", reason, handoff=True, **flags, **base)

        if asks_for_human(message) or (
            intent == cfg.human_intent and confidence >= cfg.intent_confidence
        ):
            return handoff("customer asked for a human")
        if is_complaint(message):
            return handoff("customer wants to make a complaint")
        if intent in cfg.always_human_intents and confidence >= cfg.intent_confidence:
            return handoff(f"intent {intent!r} is configured as always-human")
        previous = next((t for r, t in reversed(ev.history) if r == "customer"), None)
        signal = customer_signal(message, previous, low_streak)
        if low_streak and is_frustrated(message):
            return handoff(
                f"customer says this is not helping after {low_streak} unhelpful "
                f"repl{'y' if low_streak == 1 else 'ies'}",
                low_confidence=True,
            )
        d = self._answer(ev, cfg, base, intent, confidence, oos_class)
        unhelpful = d.source in UNHELPFUL_SOURCES or signal is not None
        if unhelpful and low_streak + 1 >= cfg.handoff_after_low_turns:
            why = signal or f"{d.source} reply"
            return handoff(
                f"{low_streak + 1} unhelpful turns in a row (this one: {why})", low_confidence=True
            )
        if unhelpful:
            d.low_confidence = True  # the log counts it too (`unhelpful_streak`)
        if signal is not None:
            d.reason += f"; counts as unhelpful ({signal})"
        return d

    def _answer(
        self,
        ev: Evidence,
        cfg: EngineConfig,
        base: dict,
        intent: str,
        confidence: float,
        oos_class: bool,
    ) -> Decision:
        """The reply when no handoff is due: ranker, kb, clarify, oos or fallback."""
        cands, cites, pred = ev.candidates, ev.passages, ev.prediction
        base = dict(base)  # a KB answer adds its citations to its own copy
        if is_noise(ev.message):
            return Decision(
                cfg.fallback_message,
                "fallback",
                "nothing to answer in the message (no words, fillers or keyboard mash)",
                low_confidence=True,
                **base,
            )
        # only a reply the bot may send answers; the others are suggestions for an agent
        top_c = cands[0].score if cands and cands[0].sendable else -1.0
        top_p = cites[0].score if cites else -1.0
        r_bar = cfg.reply_threshold_oos if oos_class else cfg.reply_threshold
        if cands and cands[0].sendable and top_c >= r_bar:
            return Decision(
                cands[0].text, "ranker", f"best reply scores {top_c:.2f} >= {r_bar:.2f}", **base
            )
        if (
            not oos_class
            and intent in cfg.smalltalk_intents
            and confidence >= cfg.intent_reply_confidence
        ):
            for c in cands:
                if c.sendable and intent in c.intents and c.score >= cfg.reply_threshold_intent:
                    return Decision(
                        c.text,
                        "ranker",
                        f"intent {intent} is sure ({confidence:.2f}); the best reply agents "
                        f"gave for it scores {c.score:.2f} >= {cfg.reply_threshold_intent:.2f}",
                        **base,
                    )
        k_bar = cfg.kb_threshold_oos if oos_class else cfg.kb_threshold
        if cites and top_p >= k_bar:
            text, quoted = kb_answer(cites, ev.message)  # the passage that answers
            # the quoted passage first (what a single "source" line names), then the others in
            # search order
            others = [c for c in cites if c is not quoted]
            base["citations"] = [quoted, *others][: max(1, cfg.n_citations)]
            return Decision(
                text,
                "kb",
                f"best reply scores {top_c:.2f} < {r_bar:.2f}; KB passage scores "
                f"{top_p:.2f} >= {k_bar:.2f}",
                **base,
            )
        if len(pred.top) >= 2:
            (l1, p1), (l2, p2) = pred.top[0], pred.top[1]
            in_scope = ev.oos_label not in (l1, l2)
            if in_scope and p1 < cfg.intent_confidence and p1 + p2 >= cfg.clarify_min_mass:
                return Decision(
                    f"Just to make sure I help with the right thing: is this about "
                    f"**{humanize(l1)}** or **{humanize(l2)}**?",
                    "clarify",
                    f"two close intents: {l1} {p1:.2f}, {l2} {p2:.2f}",
                    low_confidence=True,
                    **base,
                )
        if oos_class:
            return Decision(
                cfg.oos_message,
                "oos",
                f"out of scope (confidence {confidence:.2f}); best reply "
                f"{top_c:.2f} < {r_bar:.2f}, KB {top_p:.2f} < {k_bar:.2f}",
                **base,
            )
        return Decision(
            cfg.fallback_message,
            "fallback",
            f"low confidence: intent {intent} {confidence:.2f}, best reply "
            f"{top_c:.2f}, KB {top_p:.2f}",
            low_confidence=True,
            **base,
        )


def _check_bank_width(bank, ranker) -> None:
    """The bank's embeddings must be as wide as the ranker's reply vectors."""
    from assistant.bank import EMBEDDINGS_FILE
    from assistant.errors import ModelError
    from kb.manifest import KINDS

    lexical = getattr(ranker, "lexical", None)
    width = int(ranker.encoder.dim) + (int(lexical.dim) if lexical is not None else 0)
    if bank.embeddings.shape[1] != width:
        path = ranker.path / EMBEDDINGS_FILE
        raise ModelError(
            f"{path} does not match the ranker: rows of width {bank.embeddings.shape[1]}, the "
            f"ranker's replies have {width}: {KINDS['ranker'].fix.format(dir=ranker.path)}."
        )


def _kb_model(kb_dir, ranker):
    """The ranker's directory when the index was built with the ranker's encoder (same
    fingerprint), else None (the index's own manifest says where its model is). An index
    built with the ranker then loads wherever the data directory was copied or moved,
    even from a manifest that recorded an absolute path."""
    import json

    from kb.manifest import MANIFEST_FILE
    from kb.paths import model_fingerprint

    try:
        built_with = json.loads((kb_dir / MANIFEST_FILE).read_text())["model"]["fingerprint"]
        return ranker.path if built_with == model_fingerprint(ranker.path) else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # KnowledgeBase.load reports what is wrong with the manifest


def _same_model(kb, ranker) -> bool:
    from pathlib import Path

    try:
        return Path(kb.model_path).resolve() == Path(ranker.path).resolve()
    except (AttributeError, TypeError, OSError):
        return False
