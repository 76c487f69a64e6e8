"""The log back as training data: `dialogues.jsonl` and `intents.csv` (`assistant log export`).

Agents' corrections and confirmations win over predictions, replies rated bad are dropped (or
replaced by the corrected reply), and only confident, unchallenged predicted intents become
labels. The bot's own messages (the fallback, out of scope, handoff and clarify messages, KB
answers, muted turns) are never agent replies: only replies from the response bank (source
"ranker", themselves agents' words), agents' turns and agents' corrected replies are. The files
are in the formats `training/data.py` reads (`load_dialogues`, `load_intent_examples`);
`log_training_data` gives the same with where each label came from (`assistant retrain`).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from assistant.errors import ConfigError
from assistant.log.store import ConversationLog

# A predicted intent becomes a training label only at this confidence or above.
EXPORT_MIN_CONFIDENCE = 0.9

COUNTS = (
    "dialogues",  # conversations written (those with a customer turn)
    "turns",  # turns written
    "labelled_turns",  # customer turns with an "intent"
    "intent_rows",  # distinct (text, label) rows in intents.csv
    "dropped_replies",  # replies rated bad without a corrected reply
    "corrected_replies",  # replies replaced by an agent's corrected reply
    "muted_replies",  # assistant turns never shown to the customer
    "bot_messages",  # the bot's own messages (fallback, oos, handoff, clarify, KB), left out
    "agent_replies",  # replies people wrote: agents' turns and corrected replies
)

# Assistant turns that are agents' words: replies from the response bank. None: a turn stored
# without a source (by hand, or by code older than sources), kept as before.
AGENT_WORDS_SOURCES = ("ranker", None)

_EXPORT_SQL = """
SELECT t.conversation_id, t.id, t.role, t.text, t.intent, t.confidence, t.source,
       (SELECT f.rating FROM feedback f WHERE f.turn_id = t.id
        ORDER BY f.time DESC, f.rowid DESC LIMIT 1) AS rating,
       (SELECT c.corrected_intent FROM corrections c
        WHERE c.turn_id = t.id AND c.corrected_intent IS NOT NULL
        ORDER BY c.time DESC, c.rowid DESC LIMIT 1) AS corrected_intent,
       (SELECT c.agent || char(31) || {kind} || char(31) || c.id || char(31) || c.time
        FROM corrections c WHERE c.turn_id = t.id AND c.corrected_intent IS NOT NULL
        ORDER BY c.time DESC, c.rowid DESC LIMIT 1) AS intent_by,
       (SELECT c.corrected_reply FROM corrections c
        WHERE c.turn_id = t.id AND c.corrected_reply IS NOT NULL
        ORDER BY c.time DESC, c.rowid DESC LIMIT 1) AS corrected_reply
FROM turns t JOIN conversations cv ON cv.id = t.conversation_id
ORDER BY cv.started, cv.rowid, t.seq
"""


@dataclass
class LogLabel:
    """A labelled customer turn of the log, and where its label came from."""

    turn_id: str
    conversation_id: str
    text: str
    label: str
    origin: str  # "correct" (an agent changed it), "confirm" (an agent vouched), "predicted"
    agent: str = ""  # who corrected or confirmed it ("" for a prediction)
    predicted: str | None = None  # what the bot predicted
    confidence: float | None = None  # the prediction's confidence
    correction_id: str = ""  # the correction row, for corrected and confirmed labels
    time: str = ""  # when the correction was made


@dataclass
class LogData:
    """The log as training data: dialogues (dialogue format) and their labelled turns."""

    dialogues: list[dict] = field(default_factory=list)  # {"id", "turns": [...]}
    labels: list[LogLabel] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))


def export_training_data(
    log: ConversationLog,
    out_dir: str | os.PathLike[str],
    *,
    min_confidence: float = EXPORT_MIN_CONFIDENCE,
) -> dict[str, int]:
    """Write `dialogues.jsonl` and `intents.csv` to `out_dir`; return what was written.

    Each conversation with a customer turn becomes one line
    `{"id": ..., "turns": [{"role": "customer"|"agent", "text": ..., "intent"?: ...}]}`:

    - assistant and agent turns both become role "agent"; assistant turns with source
      "muted" (never shown to the customer) are left out;
    - a reply with a `corrected_reply` is replaced by it; otherwise a reply rated bad is
      dropped;
    - a customer turn's intent is the agent's corrected intent (on the customer turn, else
      on the reply right after it) if any, else the predicted intent (of the customer turn,
      else of that reply) when its confidence is >= `min_confidence` and the reply was not
      rated bad; otherwise the turn has no "intent".

    `intents.csv` has a `text,label` header and one row per distinct labelled customer text.
    Both files come from one read snapshot and are replaced atomically. Example: a
    conversation "where is NH-48213?" (order_status, 0.97) -> "It shipped." (unrated) exports
    as `{"id": "...", "turns": [{"role": "customer", "text": "where is NH-48213?",
    "intent": "order_status"}, {"role": "agent", "text": "It shipped."}]}`.
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise ConfigError(f"min_confidence={min_confidence!r}: use a probability in [0, 1].")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(COUNTS, 0)
    pairs: dict[tuple[str, str], None] = {}  # (text, label), deduplicated in order
    tmp = {name: out / f"{name}.tmp" for name in ("dialogues.jsonl", "intents.csv")}
    try:
        with tmp["dialogues.jsonl"].open("w", encoding="utf-8") as fh:
            for dialogue in _dialogues(log, min_confidence, counts, None):
                for t in dialogue["turns"]:
                    if "intent" in t:
                        pairs[(t["text"], t["intent"])] = None
                fh.write(json.dumps(dialogue, ensure_ascii=False) + "\n")
        with tmp["intents.csv"].open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "label"])
            writer.writerows(pairs)
        for name, path in tmp.items():
            os.replace(path, out / name)
    finally:
        for path in tmp.values():
            path.unlink(missing_ok=True)
    counts["intent_rows"] = len(pairs)
    return counts


def log_training_data(log: ConversationLog, min_confidence: float | None) -> LogData:
    """The log as training data, with each label's origin (`assistant retrain`).

    The rules of `export_training_data`; `min_confidence` None: predictions are never labels
    (only agents' corrections and confirmations are).
    """
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise ConfigError(f"min_confidence={min_confidence!r}: use a probability in [0, 1].")
    data = LogData()
    threshold = 2.0 if min_confidence is None else min_confidence  # 2: no prediction passes
    data.dialogues = list(_dialogues(log, threshold, data.counts, data.labels))
    return data


def _dialogues(
    log: ConversationLog,
    min_confidence: float,
    counts: dict[str, int],
    labels: list[LogLabel] | None,
) -> Iterator[dict]:
    """Every conversation with a customer turn in dialogue format, from one read snapshot."""
    with log.snapshot() as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(corrections)")}
        # Confirmations are corrections of kind "confirm" (log schema 3); older logs have none.
        kind = "c.kind" if "kind" in columns else "'correct'"
        cursor = conn.execute(_EXPORT_SQL.format(kind=kind))
        names = [d[0] for d in cursor.description]
        rows = (dict(zip(names, r, strict=True)) for r in cursor)
        for cid, group in groupby(rows, key=lambda r: r["conversation_id"]):
            turns = dialogue_turns(list(group), min_confidence, counts, labels)
            if any(t["role"] == "customer" for t in turns):
                counts["dialogues"] += 1
                counts["turns"] += len(turns)
                yield {"id": cid, "turns": turns}


def dialogue_turns(
    rows: list[dict],
    min_confidence: float,
    counts: dict[str, int],
    labels: list[LogLabel] | None = None,
) -> list[dict]:
    """One conversation's stored turns (in order, as `_EXPORT_SQL` reads them) as dialogue turns.

    `counts` is updated with labelled, dropped, corrected, muted and bot-message turns; each
    labelled customer turn is appended to `labels` (when given) with its origin.

    >>> counts = dict.fromkeys(COUNTS, 0)
    >>> row = dict.fromkeys(("intent", "confidence", "source", "rating", "corrected_intent",
    ...                      "corrected_reply"))
    >>> dialogue_turns([{**row, "role": "customer", "text": "hi", "intent": "greeting",
    ...                  "confidence": 0.95}, {**row, "role": "assistant", "text": "Hello!"}],
    ...                0.9, counts)
    [{'role': 'customer', 'text': 'hi', 'intent': 'greeting'}, {'role': 'agent', 'text': 'Hello!'}]
    """
    turns: list[dict] = []
    for i, row in enumerate(rows):
        if row["role"] == "customer":
            nxt = rows[i + 1] if i + 1 < len(rows) else None
            reply = nxt if nxt is not None and nxt["role"] != "customer" else None
            intent, confidence = row["intent"], row["confidence"]
            if intent is None and reply is not None and reply["role"] == "assistant":
                intent, confidence = reply["intent"], reply["confidence"]
            by_row = row if row["corrected_intent"] else reply
            label = row["corrected_intent"] or (reply and reply["corrected_intent"])
            origin, agent, cid, when = "predicted", "", "", ""
            if label:
                # "agent<US>kind<US>id<US>time"; only the agent's name could hold a US itself
                by = by_row.get("intent_by") or "\x1f\x1f\x1f"
                agent, origin, cid, when = by.rsplit("\x1f", 3)
            else:
                rated_bad = reply is not None and reply["rating"] == -1
                if intent and confidence is not None and confidence >= min_confidence:
                    label = None if rated_bad else intent
            turn = {"role": "customer", "text": row["text"]}
            if label:
                turn["intent"] = label
                counts["labelled_turns"] += 1
                if labels is not None:
                    labels.append(
                        LogLabel(
                            turn_id=row.get("id") or "",
                            conversation_id=row.get("conversation_id") or "",
                            text=row["text"],
                            label=label,
                            origin=origin or "correct",
                            agent=agent,
                            predicted=intent,
                            confidence=confidence,
                            correction_id=cid,
                            time=when,
                        )
                    )
            turns.append(turn)
            continue
        if row["role"] == "assistant" and row["source"] == "muted":
            counts["muted_replies"] += 1
            continue
        text = row["text"]
        if row["corrected_reply"] is not None:
            text = row["corrected_reply"]
            counts["corrected_replies"] += 1
            counts["agent_replies"] += 1
        elif row["role"] == "assistant" and row["source"] not in AGENT_WORDS_SOURCES:
            counts["bot_messages"] += 1  # the bot's own message: never an agent's reply
            continue
        elif row["rating"] == -1:
            counts["dropped_replies"] += 1
            continue
        elif row["role"] == "agent":
            counts["agent_replies"] += 1
        turns.append({"role": "agent", "text": text})
    return turns
