"""The dialogue engine: for each customer message, predict, retrieve, rank, and choose.

No UI and no storage here: `decide` takes the conversation so far and returns a `Decision`.
`assistant.service` adds the conversation log, tickets and timing around it.

The policy, in order (every reply records its reason):
  1. handoff   the customer asks for a human, the intent is configured as always-human, or
               this is the N-th low-confidence turn in a row
  2. ranker    the best reply from the response bank scores >= reply_threshold
               (a higher bar when the message looks out of scope)
  3. kb        the best knowledge-base passage scores >= kb_threshold: answer with it, cited
  4. clarify   two intents are plausible and close: ask which one
  5. oos       out of scope: a graceful "that's outside what I can help with"
  6. fallback  low confidence: ask to rephrase (counts towards the handoff streak)
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from assistant.config import EngineConfig
from assistant.grounding import Grounds, kb_grounds
from assistant.kb_answer import kb_answer
from assistant.placeholders import extract_slots
from assistant.reply import Candidate, Citation, Decision

_HUMAN_REQUEST = re.compile(
    r"\b(human|real person|live (agent|person|chat)|speak to (someone|somebody|an? (agent|person|"
    r"representative|rep))|talk to (someone|somebody|an? (agent|person|representative|rep))|"
    r"customer service rep|operator)\b",
    re.I,
)


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

    @classmethod
    def load(cls, models_dir, kb_dir=None, config: EngineConfig | None = None) -> DialogueEngine:
        """Load `models_dir/intent`, `models_dir/ranker` and optionally a KB index.

        `models_dir` may hold versions: then the current one is loaded (`assistant.versions`).
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
        workers = 1 if resolve_backend() == "onnx" else 0
        with ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="load") as pool:
            if workers:
                loading = pool.submit(IntentClassifier.load, models / "intent")
            ranker = ResponseRanker.load(models / "ranker")
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
        return engine

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
        if self.kb is None:
            return ctx_emb, []
        if self._kb_shares_ranker:
            # The context (newest turn first) is the dense query too, so a follow-up such as
            # "and how long does that take?" is searched with what it refers to; the keyword
            # part of the search uses the message alone.
            query = self.ranker.dense_part(ctx_emb)
            return ctx_emb, self.kb.search_embedding(query, k=self.config.kb_k, text=message)
        return ctx_emb, self.kb.search(message, k=self.config.kb_k)

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
            if getattr(self, "_kb_grounds", None) is None:  # the whole KB, read once
                self._kb_grounds = kb_grounds(self.kb)
            grounds.base = self._kb_grounds
            if not self._kb_grounds:  # a KB that cannot be read whole: this turn's passages
                grounds.add(f"{p.title}. {p.section}. {p.text}" for p in passages or [])
        return self.bank.candidates(ctx_emb, slots, grounds, self.config.n_candidates)

    # -- the policy ---------------------------------------------------------------------------
    def decide(self, history: list[tuple[str, str]], message: str, low_streak: int = 0) -> Decision:
        """Choose the reply to `message` given earlier (role, text) turns, oldest first."""
        cfg = self.config
        intent = self._pool.submit(self.intent.predict, [message], 3)
        ctx_emb, passages = self._retrieve(history, message)
        pred = intent.result()[0]
        customer = [t for r, t in history if r == "customer"] + [message]
        slots = extract_slots(customer)
        cands = self._candidates(ctx_emb, slots, customer, passages)
        cites: list[Citation] = passages  # the KB's passage record is what a reply cites
        # only a reply the bot may send answers; the others are suggestions for an agent
        top_c = cands[0].score if cands and cands[0].sendable else -1.0
        top_p = cites[0].score if cites else -1.0
        base = dict(
            intent=pred.label,
            confidence=pred.confidence,
            top_intents=list(pred.top),
            candidates=cands,
            citations=[],
        )

        if _HUMAN_REQUEST.search(message) or (
            pred.label == cfg.human_intent and pred.confidence >= cfg.intent_confidence
        ):
            return Decision(
                cfg.handoff_message, "handoff", "customer asked for a human", handoff=True, **base
            )
        if pred.label in cfg.always_human_intents and pred.confidence >= cfg.intent_confidence:
            return Decision(
                cfg.handoff_message,
                "handoff",
                f"intent {pred.label!r} is configured as always-human",
                handoff=True,
                **base,
            )

        oos = pred.out_of_scope
        r_bar = cfg.reply_threshold_oos if oos else cfg.reply_threshold
        if cands and cands[0].sendable and top_c >= r_bar:
            return Decision(
                cands[0].text, "ranker", f"best reply scores {top_c:.2f} >= {r_bar:.2f}", **base
            )
        k_bar = cfg.kb_threshold_oos if oos else cfg.kb_threshold
        if cites and top_p >= k_bar:
            text, quoted = kb_answer(cites, message)  # the passage that answers
            cited = cites[: cfg.n_citations]  # in search order, the quoted passage among them
            base["citations"] = cited if quoted in cited else [*cited[:-1], quoted]
            return Decision(
                text,
                "kb",
                f"best reply scores {top_c:.2f} < {r_bar:.2f}; KB passage scores "
                f"{top_p:.2f} >= {k_bar:.2f}",
                **base,
            )
        low = pred.confidence < cfg.intent_confidence
        if low and low_streak + 1 >= cfg.handoff_after_low_turns:
            return Decision(
                cfg.handoff_message,
                "handoff",
                f"{low_streak + 1} low-confidence turns in a row",
                handoff=True,
                low_confidence=True,
                **base,
            )
        if len(pred.top) >= 2:
            (l1, p1), (l2, p2) = pred.top[0], pred.top[1]
            in_scope = self.intent.oos_label not in (l1, l2)
            if in_scope and p1 < cfg.intent_confidence and p1 + p2 >= cfg.clarify_min_mass:
                return Decision(
                    f"Just to make sure I help with the right thing: is this about "
                    f"**{humanize(l1)}** or **{humanize(l2)}**?",
                    "clarify",
                    f"two close intents: {l1} {p1:.2f}, {l2} {p2:.2f}",
                    low_confidence=True,
                    **base,
                )
        if oos:
            return Decision(
                cfg.oos_message,
                "oos",
                f"out of scope (confidence {pred.confidence:.2f}); best reply "
                f"{top_c:.2f} < {r_bar:.2f}, KB {top_p:.2f} < {k_bar:.2f}",
                **base,
            )
        return Decision(
            cfg.fallback_message,
            "clarify",
            f"low confidence: intent {pred.label} {pred.confidence:.2f}, best reply "
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
