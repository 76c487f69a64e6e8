"""Help for an agent answering a ticket: suggested replies and knowledge-base passages.

The same models the bot uses, asked differently: the ranker scores the **whole** response bank
against the conversation so far (agent-only entries included: an agent may send what the bot
may not; entries a reviewer barred left out), placeholders are filled from what the customer
said and from the ticket (unknown ones shown as "[order number]", for the agent to fill; an
order or ticket number of the conversation the reply was mined from becomes such a slot), and
the knowledge base is searched for the customer's latest message. Nothing is sent: the agent
picks and edits.

    engine = DialogueEngine.load("models", "kb")
    detail = tickets.show("T-12345")
    found = assist(engine, detail.context(), slots=detail.slots())
    found.suggestions[0].text, found.passages[0].heading

Without an engine (no models given) `assist(None, ...)` returns empty lists and says why in
`note`, so a console or `tickets show` works without models.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from assistant.placeholders import contact_values, extract_slots, fill_for_agent, own_numbers_only
from assistant.reply import Citation

N_SUGGESTIONS = 5  # suggested replies shown to an agent
N_PASSAGES = 3  # knowledge-base passages shown to an agent
NO_MODELS = "no models loaded (pass --models DIR): no suggestions or passages"


@dataclass
class Suggestion:
    """A reply from the bank for the agent to edit; `score` is the ranker's cosine."""

    text: str  # placeholders filled from the conversation where known
    score: float
    agent_only: bool = False  # a bank entry only agents may send (never the bot)

    def to_json(self) -> dict:
        """The `tickets show --json` suggestion object: {"text", "score", "agent_only"}."""
        return {"text": self.text, "score": round(self.score, 4), "agent_only": self.agent_only}


@dataclass
class Assist:
    """What the models suggest for a conversation."""

    suggestions: list[Suggestion] = field(default_factory=list)
    passages: list[Citation] = field(default_factory=list)
    note: str = ""  # why a list is empty, when it is
    model_version: str | None = None  # the models directory's version that made them

    def passages_json(self) -> list[dict]:
        """The `tickets show --json` passages: {"article_id", "title", "section", "text",
        "score"}."""
        return [
            {
                "article_id": p.article_id,
                "title": p.title,
                "section": p.section,
                "text": p.text,
                "score": round(p.score, 4),
            }
            for p in self.passages
        ]


def _same_reply(text: str) -> str:
    """What two suggestions that differ only in numbers ("within 3 minutes" / "5 minutes")
    or spacing share: one of them is enough."""
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", text)).strip().lower()


def assist(
    engine,
    history: Sequence[tuple[str, str]],
    *,
    slots: Mapping[str, str] | None = None,
    k: int = N_SUGGESTIONS,
    kb_k: int = N_PASSAGES,
) -> Assist:
    """Suggested replies and KB passages for a conversation (`history`: (role, text) turns,
    oldest first, as `TicketDetail.context()` gives them); `slots` adds values the
    conversation does not hold (`TicketDetail.slots()`: the ticket number).

    `engine` is a loaded `DialogueEngine`, or None (then nothing is suggested and `note` says
    so). The context may end with any turn (an agent's reply too): it is the conversation
    as the agent sees it, not the bot's "last message" view.
    """
    if engine is None:
        return Assist(note=NO_MODELS)
    turns = [(role, text) for role, text in history if text]
    customer = [text for role, text in turns if role == "customer"]
    if not customer:
        return Assist(note="the customer has not written anything yet")
    ranker = engine.ranker
    ctx_emb = ranker.encode_contexts([ranker.context_text(turns)])[0]
    filled = {**(slots or {}), **extract_slots(customer)}
    # the order and ticket numbers this conversation holds: any other one in a mined reply is
    # another customer's, shown as a slot to fill instead
    known = [v for text in customer for v in contact_values(text)] + list(filled.values())
    suggestions: list[Suggestion] = []
    seen: set[str] = set()
    # More than shown: banks hold many variants of one reply, and they fill to the same text.
    for i, score in engine.bank.top(ctx_emb, k * 8):
        entry = engine.bank.entries[i]
        if getattr(entry, "status", "") == "barred":
            continue  # a reviewer barred it: never sent, never suggested
        # Unknown slots stay visible ("[order number]"): the agent fills them in.
        text = fill_for_agent(own_numbers_only(entry.text, known), filled)
        if _same_reply(text) in seen:
            continue
        seen.add(_same_reply(text))
        agent_only = bool(getattr(entry, "agent_only", False))  # set by curated banks
        suggestions.append(Suggestion(text, float(score), agent_only))
        if len(suggestions) == k:
            break
    passages: list[Citation] = []
    kb = getattr(engine, "kb", None)
    if kb is not None and kb_k > 0:
        # As the engine does (DialogueEngine._retrieve): when the KB shares the ranker's
        # encoder the context vector is the dense query, else the latest message alone.
        if engine.kb_shares_ranker:
            passages = kb.search_embedding(ranker.dense_part(ctx_emb), k=kb_k, text=customer[-1])
        else:
            passages = kb.search(customer[-1], k=kb_k)
    note = "" if kb is not None else "no knowledge base loaded (pass --kb DIR): no passages"
    version = getattr(engine, "model_version", None)  # set by DialogueEngine.load
    return Assist(suggestions, list(passages)[:kb_k], note, version)
