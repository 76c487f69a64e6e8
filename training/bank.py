"""The response bank: the company's reusable agent replies, mined from training dialogues.

Each agent turn that answers a customer is, in order:

  1. normalised for the chat (`curation.for_chat`: a letter's salutation, closing and
     signature removed), so an e-mail reply and its chat twin become one entry;
  2. turned into a template (`placeholders.templatize`: the customer's name, order and ticket
     numbers, e-mail address, phone number and dates become placeholders) where the customer
     gave them; values the customer never wrote (the company's own address, another order
     found in a back office, a restaurant's phone number) are left as written;
  3. deduplicated, keeping its provenance: how often and in how many conversations it was
     used, by how many agents (when the dialogues name them: a dialogue's "agent" or
     "agent_id" field) and a sample of the conversation ids;
  4. sorted into a kind (`curation.classify`: safe / needs_slots / agent_only), with the
     specifics that recur across conversations counted as company constants, those its
     customers had written counted as echoes, and the corpus's lower-case words telling a
     name that opens a sentence from an ordinary word;
  5. given the company's review decisions (`assistant.review`: approved, edited, barred).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from assistant.curation import classify, constants, echoed_specifics, for_chat
from assistant.errors import ConfigError
from assistant.grounding import Grounds
from assistant.placeholders import contact_values, same_value, templatize
from assistant.review import Reviews, entry_id
from training.data import Dialogue


@dataclass
class BankConfig:
    max_entries: int = 5000  # most used entries kept
    min_count: int = 1  # entries used fewer times are left out
    examples: int = 5  # conversation ids kept per entry (a sample; all are counted)
    # A specific (number, name, address...) is a company constant when the replies stating
    # it were used in at least this share of the conversations (and `min_constant` of them).
    constant_share: float = 0.005
    min_constant: int = 5  # conversations, at least, for a company constant

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.min_count < 1 or self.examples < 0:
            raise ConfigError(
                "max_entries and min_count must be >= 1 and examples >= 0, got "
                f"{self.max_entries}, {self.min_count}, {self.examples}"
            )
        if not 0 <= self.constant_share <= 1:
            raise ConfigError(f"constant_share must be in [0, 1], got {self.constant_share}")


@dataclass
class _Uses:
    """What the history says about one template."""

    count: int = 0
    intents: Counter = field(default_factory=Counter)
    conversations: dict[str, None] = field(default_factory=dict)  # distinct ids, in order
    agents: set = field(default_factory=set)
    echoes: Counter = field(default_factory=Counter)  # specifics' keys its customer had written


def build_bank(
    dialogues: list[Dialogue],
    max_entries: int = 5000,
    min_count: int = 1,
    reviews: Reviews | None = None,
    config: BankConfig | None = None,
) -> list[dict]:
    """Bank entries (`assistant.bank.BankEntry` fields), most used first.

    The intents of a reply are those of the latest customer turn with an intent before it.

    >>> from training.data import Turn
    >>> d = Dialogue("c1", [Turn("customer", "refund?", "refund_status"),
    ...                     Turn("agent", "Hi Sam,\\n\\nrefunds take a few days.\\n\\nBest,\\nBo")])
    >>> e = build_bank([d])[0]
    >>> e["text"], e["kind"], e["conversations"], e["examples"]
    ('refunds take a few days.', 'safe', 1, ['c1'])
    """
    cfg = config or BankConfig(max_entries=max_entries, min_count=min_count)
    common = lower_case_words(dialogues)
    uses: dict[str, _Uses] = defaultdict(_Uses)
    for d in dialogues:
        agent = d.metadata.get("agent") or d.metadata.get("agent_id")
        last_intent = None
        said: list[str] = []  # the customer's contact values so far (emails, order numbers...)
        heard = Grounds()  # what the customer has written so far
        for i, t in enumerate(d.turns):
            if t.role == "customer":
                last_intent = t.intent or last_intent
                said.extend(contact_values(t.text))
                heard.add([t.text])
                continue
            if i == 0 or d.turns[i - 1].role != "customer":
                continue
            reply = for_chat(t.text)
            # Values the customer never gave stay as written: another customer's order number
            # or a restaurant's phone number is a back-office fact, not a slot to fill.
            keep = {v for v in contact_values(reply) if not any(same_value(v, w) for w in said)}
            text = templatize(reply, keep=keep)
            if not text:
                continue  # nothing but a greeting and a signature
            u = uses[text]
            u.count += 1
            if last_intent:
                u.intents[last_intent] += 1
            u.conversations[d.id] = None
            if agent:
                u.agents.update(agent if isinstance(agent, list) else [agent])
            u.echoes.update(echoed_specifics(text, heard, common))
    floor = max(cfg.min_constant, round(cfg.constant_share * len(dialogues)))
    const = constants(((t, len(u.conversations)) for t, u in uses.items()), floor, common)
    kept = sorted(
        ((t, u) for t, u in uses.items() if u.count >= cfg.min_count),
        key=lambda p: -p[1].count,
    )[: cfg.max_entries]
    entries = []
    for text, u in kept:
        # A specific its customers had written in at least half of its uses is an echo.
        echoed = [k for k, n in u.echoes.items() if 2 * n >= u.count]
        c = classify(text, const, echoed, common)
        entries.append(
            {
                "id": entry_id(text),
                "text": text,
                "count": u.count,
                "intents": dict(u.intents.most_common()),
                "kind": c.kind,
                "reasons": c.reasons,
                "conversations": len(u.conversations),
                "agents": len(u.agents) if u.agents else None,
                "examples": list(u.conversations)[: cfg.examples],
                "status": "unreviewed",
                "original": "",
            }
        )
    if reviews is not None:
        _apply_reviews(entries, reviews)
    return entries


def lower_case_words(dialogues: list[Dialogue]) -> set[str]:
    """Every word the dialogues write in lower case somewhere (case-folded): the common words,
    which a capitalised word opening a sentence usually is; a word only ever written with a
    capital is a name ("Furusato", "Bazille"). Truecasing, as statistical NLP calls it.

    >>> from training.data import Turn
    >>> sorted(lower_case_words([Dialogue("c", [Turn("agent", "Furusato is nice")])]))
    ['is', 'nice']
    """
    words: set[str] = set()
    for d in dialogues:
        for t in d.turns:
            words.update(w for w in re.findall(r"[^\W\d_][\w']*", t.text) if w.islower())
    return {w.removesuffix("'s") for w in words}


def _apply_reviews(entries: list[dict], reviews: Reviews) -> None:
    """The reviewers' decisions on the new bank: statuses set, edited texts in place."""
    from assistant.bank import BankEntry

    objs = [BankEntry(**e) for e in entries]
    reviews.apply(objs)
    for e, o in zip(entries, objs):
        e.update(status=o.status, text=o.text, original=o.original)
