"""The conversation log: every turn, rating, correction and handoff in one ordinary SQLite file.

    from assistant.log import ConversationLog, export_training_data

    log = ConversationLog("conversations.db")            # migrates the schema on open
    cid = log.new_conversation(channel="chat")
    tid = log.add_turn(cid, "customer", "my email is jo@example.com")  # stored as "[EMAIL]"
    log.add_feedback(tid, -1)
    log.state(cid)                                        # status, history, low-confidence streak
    export_training_data(log, "exports/")                 # dialogues.jsonl + intents.csv

One concept per module:

- `schema`: tables, allowed values and the migrations (append-only) that build them;
- `ids`, `columns`: ids and timestamps; Python values as column values, free text redacted once;
- `store`: `ConversationLog`, the reads and writes (thread-safe, one transaction per write);
- `state`: a conversation's status, history and low-confidence streak, derived from its rows;
- `writer`: `LogWriter`, store writes nobody waits for on a background thread, bounded queue;
- `spool`: `Spool`, exchanges the log could not take, kept durably beside it until it can;
- `integrity`: is a log file damaged? (checked on open; a damaged one is set aside);
- `watch`: `LogWatcher`, notices changes made by other connections and processes;
- `export`: the log back as training data (`assistant log export`).

Conversations are customer data, so two rules hold everywhere in this package:

- nothing is lost: every write is one transaction (an exchange, the customer's message and the
  reply to it, included), the file is in WAL mode with `synchronous=FULL`, a damaged file is
  set aside and never written into, `LogWriter` writes everything it accepted before `close()`
  returns and reports every write that failed (never silently dropped), and an exchange the log
  cannot take is kept in the spool (see docs/reliability.md for the whole contract);
- nothing secret is written in clear: free text (turn text, reply candidates, citations, reasons,
  feedback comments, corrected replies, ticket reasons, agents' notes, conversation metadata)
  is redacted with `assistant.redact.redact`, exactly once, before it reaches the database.

The log is the one source of truth for a conversation's state: nothing else keeps it. The
schema is described in docs/log-schema.md.
"""

from __future__ import annotations

from assistant.log.columns import Redacted, redact_once
from assistant.log.export import EXPORT_MIN_CONFIDENCE, export_training_data
from assistant.log.ids import new_id, utc_now
from assistant.log.schema import MIGRATIONS, ROLES, SCHEMA_VERSION, STATUSES, TURN_FIELDS
from assistant.log.spool import Replay, Spool
from assistant.log.state import HISTORY_TURNS, ConversationState
from assistant.log.store import WRITE_METHODS, ConversationLog, Exchange
from assistant.log.watch import LogWatcher
from assistant.log.writer import FailedWrite, LogWriter

__all__ = [
    "EXPORT_MIN_CONFIDENCE",
    "HISTORY_TURNS",
    "MIGRATIONS",
    "ROLES",
    "SCHEMA_VERSION",
    "STATUSES",
    "TURN_FIELDS",
    "WRITE_METHODS",
    "ConversationLog",
    "ConversationState",
    "Exchange",
    "FailedWrite",
    "LogWatcher",
    "LogWriter",
    "Redacted",
    "Replay",
    "Spool",
    "export_training_data",
    "new_id",
    "redact_once",
    "utc_now",
]
