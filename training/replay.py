"""Replaying held-out dialogues through the real assistant (`assistant eval dialogues`).

Each dialogue's customer turns are sent, in order, to an `AssistantService` (the real engine,
policy and log; a temporary log unless one is given): the bot sees its own replies as history,
its unhelpful-turn count comes from the log, a handoff mutes it for the rest of the dialogue,
exactly as in a chat. Each reply is compared with the reply the human agent actually gave next.

What is measured (`dialogue_metrics`; shares of customer turns unless said otherwise):

    coverage      share of turns per reply source (ranker, kb, clarify, fallback, oos,
                  handoff, muted) and `answered`, the share the bot answered itself (ranker + kb)
    precision     answers that match the true next agent reply / answers that have one
    claims        sent answers claiming an action the bot cannot have done / answers sent
                  (in the bot's own words: a KB answer's clause quoted word for word from
                  the article it cites is the company's published text, counted apart as
                  `kb_quoted_claims`, see `split_claims`)
    ungrounded    sent answers stating a specific (number, address, e-mail, date, name) that
                  neither this customer wrote nor the KB passages retrieved for the turn hold
    unfit         sent answers that do not read as chat (a letter's salutation or sign-off,
                  an unfilled placeholder, "ticket your ticket")
    clarify, fallback     their share of turns
    handoff       dialogues the bot handed to a person / dialogues
    loop          dialogues where the bot sent the same answer twice in a row, or
                  `handoff_after_low_turns` unhelpful replies in a row without a handoff

**The match** (documented in docs/evaluation.md): a reply matches the true agent reply when,
after names, order and ticket numbers, e-mails, phones and dates become placeholders
(`templatize`), both are the same text, or when the bundled all-MiniLM-L6-v2 (not a model the
assistant was trained into, so the system does not grade itself) gives them a cosine of at least
`MATCH_THRESHOLD`. A KB answer is judged by the passage it quotes, by its best sentence (the
frame "Here is what our help centre says" is the same for every answer), and is right as well
when it quotes the article the exchange is about: of the KB's articles, the one whose passage
the same MiniLM finds nearest to the customer's message with the agent's true reply
(`ReplyJudge.judge_kb`; agents often ask a question before explaining). A small-talk turn
(greeting, thanks and goodbye, labelled so in the dialogue) matches when answered with a reply
agents gave for that intent (`smalltalk_match`).

The claim, grounding and chat-fitness detectors are the reply bank's own:
`assistant.curation.action_claims` and `chat_unfit`, and `assistant.grounding.ungrounded` with
this conversation's customer messages and the whole KB as grounds (`kb_grounds`).
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from assistant.config import CALIBRATED
from training.data import Dialogue

MATCH_THRESHOLD = 0.60  # judge cosine at which a reply counts as the true agent reply
ANSWER_SOURCES = ("ranker", "kb")  # the bot answered the customer itself
UNHELPFUL_SOURCES = ("clarify", "fallback", "oos")
SOURCE_ORDER = ("ranker", "kb", "clarify", "fallback", "oos", "handoff", "muted")


# -- the judge --------------------------------------------------------------------------------


class ReplyJudge:
    """Does a sent reply say what the true agent reply said? (the module docstring's match)"""

    def __init__(self, encoder=None, threshold: float = MATCH_THRESHOLD, kb=None) -> None:
        if encoder is None:
            from kb.encoder import batch_inference, load_encoder
            from training.threads import free_threads

            # the bundled all-MiniLM-L6-v2, on the cores other processes leave free; torch
            # where installed: the judge embeds thousands of texts in batches, where torch is
            # the faster backend (4-6x in bf16), and it needs no ONNX export on a first run
            with batch_inference():
                encoder = load_encoder(None, threads=free_threads())
        self.encoder = encoder
        self.threshold = threshold
        # The KB's articles as the judge reads them (`use_kb`): texts and their article ids.
        self._units: list[str] = []
        self._unit_articles: np.ndarray = np.zeros(0, dtype=object)
        self._unit_emb: np.ndarray | None = None
        if kb is not None:
            self.use_kb(kb_passages(kb))
        # One vector per text, whatever batch it came in: a judgement never depends on what
        # else was judged with it (calibration checks its sweep against the policy exactly).
        self._cache: dict[str, np.ndarray] = {}

    def _embed(self, texts) -> dict[str, np.ndarray]:
        new = sorted(set(texts) - set(self._cache))
        if new:
            for text, vec in zip(new, self.encoder.encode(new, max_length=128)):
                self._cache[text] = vec
        return self._cache

    def similarities(self, pairs: list[tuple[str, str]], passages: bool = False) -> np.ndarray:
        """Score of each (sent, true) pair: their cosine, 1.0 where both are the same template.

        With `passages`, each sent text is a KB passage: its score is the best cosine of the
        true reply with the passage or with any one of its sentences (a passage holds more
        than a chat reply says; what counts is that it says what the agent said).
        """
        from assistant.placeholders import templatize

        if not pairs:
            return np.zeros(0, dtype=np.float32)
        parts = [[a, *(_sentences(a) if passages else [])] for a, _ in pairs]
        emb = self._embed([t for pair in pairs for t in pair] + [x for p in parts for x in p])
        sims = np.array(
            [max(float(emb[x] @ emb[b]) for x in xs) for xs, (_, b) in zip(parts, pairs)],
            dtype=np.float32,
        )
        same = [_norm(templatize(a)) == _norm(templatize(b)) for a, b in pairs]
        return np.where(same, 1.0, sims).astype(np.float32)

    def matches(self, pairs: list[tuple[str, str]], passages: bool = False) -> np.ndarray:
        """Whether each (sent, true) pair matches by what it says (the cosine, the template)."""
        return self.similarities(pairs, passages) >= self.threshold

    def use_kb(self, passages) -> None:
        """Read the KB's articles (`kb.passage.Passage`s): each passage, headed by its
        article's title and its section, stands for its article in `exchange_articles`.
        (Whole passages, not sentences: one generic sentence of an unrelated article, "have
        your order number ready", would otherwise win an exchange about anything.)"""
        self._units = [f"{p.title}. {p.section}. {p.text}" for p in passages]
        self._unit_articles = np.array([p.article_id for p in passages], dtype=object)
        self._unit_emb = None

    @property
    def has_kb(self) -> bool:
        return bool(self._units)

    def exchange_articles(self, exchanges: list[tuple[str, str]]) -> list[str | None]:
        """The article each (customer message, true agent reply) exchange is about: the KB
        article whose passage is nearest to the two texts together (None without a KB). The
        agent's reply says what the customer was asking about even when it asks a question
        back ("Which order is it?" after "how do I cancel?")."""
        if not exchanges or not self.has_kb:
            return [None] * len(exchanges)
        if self._unit_emb is None:
            self._unit_emb = np.stack([self._embed(self._units)[u] for u in self._units])
        texts = [f"{m}\n{t}" for m, t in exchanges]
        emb = self._embed(texts)
        sims = np.stack([emb[t] for t in texts]) @ self._unit_emb.T  # (exchanges, units)
        return [str(self._unit_articles[i]) for i in sims.argmax(1)]

    def judge_kb(
        self, quoted: list, exchanges: list[tuple[str, str]]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cosine, on_topic, right) for KB answers: `quoted` the passages they quote
        (`kb.passage.Passage`), `exchanges` the (customer message, true agent reply) pairs.

        A KB answer is right when its passage says what the agent said (`similarities` with
        `passages=True` >= threshold), or when it quotes the article the exchange is about
        (`exchange_articles`): a help-centre passage rarely reads like a chat reply, and an
        agent often asks a question before explaining what the article explains.
        """
        sims = self.similarities([(q.text, t) for q, (_, t) in zip(quoted, exchanges)], True)
        about = self.exchange_articles(exchanges)
        on_topic = np.array(
            [a is not None and q.article_id == a for q, a in zip(quoted, about)], dtype=bool
        )
        return sims, on_topic, (sims >= self.threshold) | on_topic

    def describe(self) -> str:
        """The judge in one line, for manifests and reports."""
        enc = self.encoder
        how = f"{getattr(enc, 'backend', type(enc).__name__)} {getattr(enc, 'precision', '')}"
        text = (
            f"all-MiniLM-L6-v2 ({how.strip()}) cosine >= {self.threshold:.2f} or the same template"
        )
        if self.has_kb:
            text += "; a KB answer also when it quotes the article the exchange is about"
        return text + " (training/replay.py)"


def kb_passages(kb) -> list:
    """Every passage of a knowledge base (`kb.KnowledgeBase`), read through its public search
    (a dense search for all `len(kb)` passages), for the judge; [] for an object that cannot
    be read that way."""
    search = getattr(kb, "search_embedding", None)
    n = len(kb) if hasattr(kb, "__len__") else 0
    if search is None or not n:
        return []
    probe = np.zeros(int(kb.dimension), dtype=np.float32)
    probe[0] = 1.0  # any unit vector: every passage comes back
    return list(search(probe, k=n))


def _sentences(text: str) -> list[str]:
    """The sentences (and list items) of a passage, those of more than three words."""
    parts = re.split(r"(?<=[.!?:])\s+|\n+", text)
    return [p.strip(" -*#") for p in parts if len(p.split()) > 3]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w{}]+", " ", text.lower()).split())


def judged_text(source: str, reply: str, citations: list) -> str:
    """The text a reply is judged by: a KB answer's quoted passage, else the reply itself."""
    if source == "kb" and citations:
        return quoted_passage(reply, citations).text
    return reply


def quoted_passage(reply: str, citations: list):
    """The cited passage a KB answer quotes: the one whose heading its frame names (citations
    keep search order, so it is not always the first).

    >>> from kb.passage import Passage
    >>> a = Passage("a", "Fees", "Late fees", "a.md", 0.7, "A late fee is 5 EUR.")
    >>> b = Passage("b", "Fees", "Refunds", "a.md", 0.6, "Refunds take 5 days.")
    >>> quoted_passage("Here is what our help centre says (**Fees › Refunds**):", [a, b]).section
    'Refunds'
    """
    return next((c for c in citations if f"**{c.heading}**" in reply), citations[0])


# -- the replay -------------------------------------------------------------------------------


@dataclass
class TurnResult:
    """One customer turn of a replayed dialogue and what the bot did with it."""

    dialogue_id: str
    turn: int  # index of the customer turn within the dialogue's turns
    text: str  # the customer's message
    source: str  # the reply's source
    reply: str  # what the bot sent ("" when muted)
    reason: str
    intent: str | None
    confidence: float
    latency_ms: float
    gold_intent: str | None  # the intent the dialogue labels this turn with, if any
    true_reply: str | None  # the agent's next turn in the dialogue, if it follows directly
    judged: str = ""  # the text compared with the true reply
    smalltalk: bool = False  # small talk answered with a reply agents gave for its intent
    similarity: float | None = None  # judge score (answers with a true reply only)
    article: str = ""  # KB answers: the article of the passage quoted
    on_topic: bool | None = None  # KB answers: it quotes the article the exchange is about
    matched: bool | None = None
    claims: list[str] = field(default_factory=list)  # in the bot's own words
    quoted_claims: list[str] = field(default_factory=list)  # KB answers: in the article's words
    ungrounded: list[str] = field(default_factory=list)
    unfit: str | None = None


def replay(
    service,
    dialogues: list[Dialogue],
    kb=None,
    progress: Callable[[int, int], None] | None = None,
) -> list[TurnResult]:
    """Send every dialogue's customer turns, in order, through `service`; one result a turn.

    Each dialogue is a new conversation ("eval" channel) in the service's log. `kb` (the KB's
    `assistant.grounding.Grounds`) grounds the specifics an answer may state, beside what its
    customer wrote.
    """
    from assistant.curation import chat_unfit
    from assistant.grounding import Grounds, ungrounded

    results: list[TurnResult] = []
    for n, d in enumerate(dialogues, 1):
        cid = service.new_conversation(channel="eval")
        customer_so_far: list[str] = []
        for i, t in enumerate(d.turns):
            if t.role != "customer":
                continue
            nxt = d.turns[i + 1] if i + 1 < len(d.turns) else None
            true = nxt.text if nxt is not None and nxt.role == "agent" else None
            r = service.respond(cid, t.text)
            customer_so_far.append(r.redacted_text or t.text)
            res = TurnResult(
                d.id,
                i,
                t.text,
                r.source,
                r.reply,
                r.reason,
                r.intent,
                float(r.confidence),
                float(r.latency_ms),
                t.intent,
                true,
            )
            if r.source in ANSWER_SOURCES:
                res.judged = judged_text(r.source, r.reply, r.citations)
                if r.source == "kb" and r.citations:
                    res.article = quoted_passage(r.reply, r.citations).article_id
                res.smalltalk = smalltalk_match(
                    t.intent, r.reply, r.candidates, service.engine.config.smalltalk_intents
                )
                quoted = [c.text for c in r.citations] if r.source == "kb" else []
                res.claims, res.quoted_claims = split_claims(r.reply, quoted)
                grounds = Grounds.of([*customer_so_far, *(c.text for c in r.citations)])
                grounds.base = kb
                res.ungrounded = ungrounded(r.reply, grounds)
                res.unfit = chat_unfit(r.reply)
            results.append(res)
        if progress is not None:
            progress(n, len(dialogues))
    return results


_CLAUSE_END = re.compile(r"[.!?;:\n|*\u2014\u2022]")
_WORDS = re.compile(r"[a-z0-9]+")


def split_claims(reply: str, quoted: list[str]) -> tuple[list[str], list[str]]:
    """The action claims of `reply` (`assistant.curation.action_claim_spans`) in two lists:
    those in the bot's own words, and those in a clause it quotes word for word from one of
    the `quoted` texts (a KB answer's cited passages: "Once an order has shipped you cannot
    cancel it" is the company's published policy, not an action the bot claims to have done).

    >>> split_claims("We have refunded it.", [])
    (['claims an action: "We have refunded"'], [])
    >>> split_claims("Says (**Returns**): - **Refunded** \u2014 We have sent the money.",
    ...              ["Refunded: we have sent the money; it takes 5 days."])
    ([], ['claims an action: "We have sent"'])
    """
    from assistant.curation import action_claim_spans

    sources = [" ".join(_WORDS.findall(q.lower())) for q in quoted]
    own, in_quote = [], []
    for start, end, why in action_claim_spans(reply):
        a = max((m.end() for m in _CLAUSE_END.finditer(reply, 0, start)), default=0)
        b = _CLAUSE_END.search(reply, end)
        clause = " ".join(_WORDS.findall(reply[a : b.start() if b else len(reply)].lower()))
        target = in_quote if clause and any(clause in src for src in sources) else own
        if why not in target:
            target.append(why)
    return own, in_quote


def judge_results(results: list[TurnResult], judge: ReplyJudge) -> None:
    """Fill `similarity` and `matched` of the answers that have a true reply (in place)."""
    from kb.passage import Passage

    todo = [r for r in results if r.source == "ranker" and r.true_reply]
    for r, s in zip(todo, judge.similarities([(r.judged, r.true_reply) for r in todo])):
        r.similarity = float(s)
        r.matched = bool(s >= judge.threshold) or r.smalltalk
    todo = [r for r in results if r.source == "kb" and r.true_reply]
    quoted = [Passage(r.article, "", "", "", 0.0, r.judged) for r in todo]
    sims, on_topic, ok = judge.judge_kb(quoted, [(r.text, r.true_reply) for r in todo])
    for r, s, t, good in zip(todo, sims, on_topic, ok):
        r.similarity, r.on_topic = float(s), bool(t)
        r.matched = bool(good) or r.smalltalk


def smalltalk_match(gold: str | None, sent: str, candidates, smalltalk) -> bool:
    """A small-talk turn (its labelled intent is one of `smalltalk`: a greeting, thanks and
    goodbye) answered with a bank reply agents gave for that intent: right, whatever its words
    ("My pleasure. Have a good one!" for "Thanks for contacting us. Bye for now!", cosine 0.26).

    >>> from assistant.reply import Candidate
    >>> c = [Candidate("Bye for now!", 0.5, ["thanks_goodbye"])]
    >>> smalltalk_match("thanks_goodbye", "Bye for now!", c, ("thanks_goodbye",))
    True
    """
    if gold is None or gold not in smalltalk:
        return False
    return any(c.text == sent and gold in c.intents for c in candidates)


def _share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def dialogue_metrics(results: list[TurnResult], loop_after: int = 3) -> dict:
    """The figures of the module docstring from replayed (and judged) turns."""
    n = len(results)
    by_dialogue: dict[str, list[TurnResult]] = {}
    for r in results:
        by_dialogue.setdefault(r.dialogue_id, []).append(r)
    sources = Counter(r.source for r in results)
    answers = [r for r in results if r.source in ANSWER_SOURCES]
    judged = [r for r in answers if r.matched is not None]
    per_source_precision = {}
    for s in ANSWER_SOURCES:
        js = [r for r in judged if r.source == s]
        per_source_precision[s] = _share(sum(r.matched for r in js), len(js))
    handed = sum(any(r.source == "handoff" for r in rs) for rs in by_dialogue.values())
    loops = sum(_has_loop(rs, loop_after) for rs in by_dialogue.values())
    return {
        "dialogues": len(by_dialogue),
        "turns": n,
        "coverage": {s: _share(sources.get(s, 0), n) for s in SOURCE_ORDER},
        "answered": _share(len(answers), n),
        "precision": _share(sum(r.matched for r in judged), len(judged)),
        "precision_by_source": per_source_precision,
        "judged_answers": len(judged),
        "answers": len(answers),
        "claims": _share(sum(bool(r.claims) for r in answers), len(answers)),
        "kb_quoted_claims": _share(sum(bool(r.quoted_claims) for r in answers), len(answers)),
        "ungrounded": _share(sum(bool(r.ungrounded) for r in answers), len(answers)),
        "unfit": _share(sum(r.unfit is not None for r in answers), len(answers)),
        "clarify": _share(sources.get("clarify", 0), n),
        "fallback": _share(sources.get("fallback", 0), n),
        "handoff": _share(handed, len(by_dialogue)),
        "loop": _share(loops, len(by_dialogue)),
    }


def _has_loop(turns: list[TurnResult], loop_after: int) -> bool:
    """The bot sent the same answer (ranker, kb) twice in a row, or `loop_after` unhelpful
    replies in a row without handing off."""
    run, last = 0, None
    for r in turns:
        if r.source in ("muted", "handoff"):
            return False  # a person has it from here
        if r.source in ANSWER_SOURCES and r.reply == last:
            return True  # the same answer again (a repeated fallback counts in `run`)
        run = run + 1 if r.source in UNHELPFUL_SOURCES else 0
        if run >= loop_after:
            return True
        last = r.reply
    return False


def evaluate_dialogues(
    models: str | Path | None,
    data: str | Path,
    kb: str | Path | None = None,
    *,
    calibration: bool = True,
    config=None,
    engine=None,
    judge: ReplyJudge | None = None,
    db: str | Path | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> tuple[dict, list[TurnResult]]:
    """Replay the dialogues of `data` with the models (and KB); returns (metrics, turns).

    A temporary conversation log is used and removed unless `db` is given. `calibration=False`
    answers with the config defaults even when the models carry a calibration. An `engine`
    already loaded is used as it is (`models`, `kb`, `calibration` and `config` unused).
    """
    from assistant.engine import DialogueEngine
    from assistant.log import ConversationLog
    from assistant.service import AssistantService
    from training.data import load_dialogues

    dialogues = load_dialogues(data)
    if engine is None:
        engine = DialogueEngine.load(models, kb, config, calibration=calibration)
    log(f"policy: {engine.calibration_note}")
    with tempfile.TemporaryDirectory(prefix="eval-dialogues-") as tmp:
        service = AssistantService(engine, ConversationLog(Path(db) if db else Path(tmp) / "e.db"))
        try:
            results = replay(service, dialogues, engine.whole_kb_grounds())
        finally:
            service.close()
    judge = judge or ReplyJudge()
    if engine.kb is not None and not judge.has_kb:
        judge.use_kb(kb_passages(engine.kb))
    judge_results(results, judge)
    metrics = dialogue_metrics(results, engine.config.handoff_after_low_turns)
    metrics["thresholds"] = {k: getattr(engine.config, k) for k in CALIBRATED}
    metrics["calibrated"] = engine.calibration is not None
    metrics["match_threshold"] = judge.threshold
    return metrics, results


def turn_rows(results: list[TurnResult]) -> list[dict]:
    """The replayed turns as JSON-ready dicts (`--turns FILE`)."""
    return [asdict(r) for r in results]
