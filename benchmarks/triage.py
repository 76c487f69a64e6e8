"""The agent's side at scale: selecting a ticket, keeping a queue current, a reply reaching a chat.

Three figures on a log of `--conversations` conversations (default 100,000, of which
`--open` 1,000 have an open ticket and a fifth were handed off once and closed), built once
in bulk and kept at `--db` for the next run:

1. `select`: `Tickets.show(id)` (the ticket, its transcript, notes) plus `assist()` (suggested
   replies and KB passages from the models) for random open tickets: p50 / p95 ms. Target:
   p95 <= 150 ms. Without `--models` only the log part is timed (said in the output).
2. `queue`: a console keeping the 1,000 open tickets current: every 0.2 s it asks
   `Tickets.changes` (PRAGMA data_version) and, when the log moved, `Tickets.list("open")`,
   while another process writes customer messages into open tickets at `--write-rate` a
   second. Reported: milliseconds of database time (SQL statements and the probe) per second
   of wall time, and all CPU time of the loop per second. Target: <= 5 ms of DB time a second.
3. `reply`: an agent (another process, its own connection) replies to the ticket of an open
   `ChatApp` (Textual, headless, the real service and log) every 0.3-0.7 s; the time from the
   reply's commit to the message on the chat's screen: p50 / p95 / max ms. Target: p95 <= 1 s.

    python benchmarks/triage.py --models ~/.local/share/offline-assistant/models \
        --kb ~/.local/share/offline-assistant/kb --db /tmp/triage-100k.db

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # fake_engine: the chat's bot plays no part in (3)

from assistant.log import ConversationLog  # noqa: E402
from assistant.tickets import Tickets  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)


def stamp(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


# -- 0. the log --------------------------------------------------------------------------------


def demo_dialogues() -> list[dict]:
    path = ROOT / "assistant" / "demo_data" / "dialogues.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def build_log(db: Path, n: int, n_open: int, seed: int = 0) -> None:
    """A log of `n` conversations made of the demo dialogues, written in bulk."""
    rng = random.Random(seed)
    dialogues = demo_dialogues()
    ConversationLog(db).close()  # the schema, migrated
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA synchronous = OFF")
    candidates = json.dumps(
        [{"text": "Thanks, {name}! Let me check that order for you.", "score": 0.61, "intents": []}]
        * 5
    )
    handed = set(rng.sample(range(n), n // 5))
    open_ids = set(rng.sample(sorted(handed), n_open))
    conversations, turns, tickets = [], [], []
    for i in range(n):
        cid = uuid.uuid4().hex
        when = START + timedelta(seconds=i * 60)
        d = dialogues[i % len(dialogues)]
        status = "human" if i in open_ids else "bot"
        conversations.append((cid, stamp(when), "chat", status, "{}", f"cust-{i % 20000}"))
        seq = 0
        for turn in d["turns"][:8]:
            seq += 1
            when += timedelta(seconds=20)
            if turn["role"] == "customer":
                conf = rng.uniform(0.2, 1.0)
                turns.append(
                    (
                        uuid.uuid4().hex,
                        cid,
                        seq,
                        "customer",
                        turn["text"],
                        stamp(when),
                        turn.get("intent"),
                        conf,
                        None,
                        None,
                        None,
                        None,
                    )
                )
            else:
                source = rng.choice(["ranker"] * 6 + ["kb", "clarify", "oos"])
                turns.append(
                    (
                        uuid.uuid4().hex,
                        cid,
                        seq,
                        "assistant",
                        turn["text"],
                        stamp(when),
                        None,
                        None,
                        source,
                        f"best reply scores {rng.random():.2f}",
                        candidates,
                        None,
                    )
                )
        if i in handed:
            tid = f"T-{i:06d}"
            if i in open_ids:
                tickets.append((tid, cid, "handoff", "open", stamp(when), None, None))
            else:
                closed = stamp(when + timedelta(minutes=5))
                tickets.append((tid, cid, "handoff", "closed", stamp(when), closed, "hand_back"))
        if len(turns) > 50_000 or i == n - 1:
            conn.executemany(
                "INSERT INTO conversations (id, started, channel, status, metadata, customer) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                conversations,
            )
            conn.executemany(
                "INSERT INTO turns (id, conversation_id, seq, role, text, time, intent, "
                "confidence, source, reason, candidates, agent) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                turns,
            )
            conn.executemany(
                "INSERT INTO tickets (id, conversation_id, reason, status, created, closed, "
                "resolution) VALUES (?, ?, ?, ?, ?, ?, ?)",
                tickets,
            )
            conn.commit()
            conversations, turns, tickets = [], [], []
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


# -- 1. selecting a ticket ---------------------------------------------------------------------


def bench_select(db: Path, engine, n: int) -> dict:
    from assistant.assist import assist

    with ConversationLog(db, check=False) as log:
        tickets = Tickets(log)
        ids = [t.id for t in tickets.list("open")]
        rng = random.Random(1)
        picks = [rng.choice(ids) for _ in range(n)]
        show_ms, total_ms = [], []
        for i, tid in enumerate(picks):
            t0 = time.perf_counter()
            detail = tickets.show(tid)
            t1 = time.perf_counter()
            assist(engine, detail.history())
            t2 = time.perf_counter()
            if i >= 3:  # the first ones warm the caches and the models
                show_ms.append((t1 - t0) * 1000)
                total_ms.append((t2 - t0) * 1000)
        tickets.close()
    return {
        "n": len(total_ms),
        "show_p50_ms": round(statistics.median(show_ms), 2),
        "show_p95_ms": round(pct(show_ms, 95), 2),
        "select_p50_ms": round(statistics.median(total_ms), 2),
        "select_p95_ms": round(pct(total_ms, 95), 2),
        "with_models": engine is not None,
    }


# -- 2. keeping the queue current --------------------------------------------------------------


def writer(db: str, ticket_conversations: list[str], rate: float, seconds: float, ready) -> None:
    """Customers writing into open tickets at `rate` messages a second (another process)."""
    rng = random.Random(2)
    with ConversationLog(db, check=False, synchronous="NORMAL") as log:
        ready.set()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            log.add_turn(rng.choice(ticket_conversations), "customer", "hello? any news?")
            time.sleep(rng.expovariate(rate))


def bench_queue(db: Path, seconds: float, rate: float) -> dict:
    from assistant.log import watch

    with ConversationLog(db, check=False) as log:
        tickets = Tickets(log)
        db_time = [0.0]
        real_query, real_probe = Tickets._query, watch.LogWatcher._probe

        def timed_query(self, sql, params):
            t0 = time.perf_counter()
            try:
                return real_query(self, sql, params)
            finally:
                db_time[0] += time.perf_counter() - t0

        def timed_probe(self):
            t0 = time.perf_counter()
            try:
                return real_probe(self)
            finally:
                db_time[0] += time.perf_counter() - t0

        Tickets._query = timed_query
        watch.LogWatcher._probe = timed_probe
        try:
            first_t0 = time.perf_counter()
            queue = tickets.list("open")
            first_ms = (time.perf_counter() - first_t0) * 1000
            conversations = [t.conversation_id for t in queue]
            ctx = multiprocessing.get_context("spawn")
            ready = ctx.Event()
            proc = ctx.Process(target=writer, args=(str(db), conversations, rate, seconds, ready))
            proc.start()
            ready.wait(60)
            db_time[0] = 0.0
            cpu0, wall0 = time.process_time(), time.perf_counter()
            seen, refreshes, polls = tickets.changes, 0, 0
            while time.perf_counter() - wall0 < seconds:
                polls += 1
                now = tickets.changes
                if now != seen:
                    seen = now
                    queue = tickets.list("open")
                    refreshes += 1
                time.sleep(0.2)
            wall = time.perf_counter() - wall0
            cpu = time.process_time() - cpu0
            proc.join()
        finally:
            Tickets._query, watch.LogWatcher._probe = real_query, real_probe
        tickets.close()
    return {
        "open_tickets": len(queue),
        "first_list_ms": round(first_ms, 1),
        "seconds": round(wall, 1),
        "customer_writes_per_s": rate,
        "polls": polls,
        "refreshes": refreshes,
        "db_ms_per_s": round(db_time[0] * 1000 / wall, 2),
        "cpu_ms_per_s": round(cpu * 1000 / wall, 2),
    }


# -- 3. an agent's reply reaching the customer's chat ------------------------------------------


def agent(db: str, ticket_id: str, n: int, sent) -> None:
    """An agent replying `n` times, 0.3-0.7 s apart (another process, its own connection)."""
    rng = random.Random(3)
    with ConversationLog(db, check=False) as log:
        tickets = Tickets(log)
        tickets.claim(ticket_id, "ana")
        for i in range(n):
            time.sleep(rng.uniform(0.3, 0.7))
            tickets.reply(ticket_id, f"reply {i}", "ana")
            sent.put((i, time.time()))  # committed: reply() returns after COMMIT
        tickets.close()


def bench_reply(db: Path, n: int) -> dict:
    from fake_engine import ScriptedEngine

    from assistant.service import AssistantService
    from assistant.tui.app import AgentMessage, ChatApp

    service = AssistantService(ScriptedEngine(), ConversationLog(db, check=False), customer="bench")
    app = ChatApp(service)
    ctx = multiprocessing.get_context("spawn")
    sent = ctx.Queue()
    delays: list[float] = []

    async def drive() -> None:
        async with app.run_test(size=(110, 34)) as pilot:
            await pilot.press("f2")  # a handoff: the conversation gets a ticket
            while app.status != "human":
                await pilot.pause(0.02)
            with ConversationLog(db, check=False) as log:
                (tid,) = [
                    r["id"]
                    for r in log.db.query(
                        "SELECT id FROM tickets WHERE conversation_id = ?", [app.conversation_id]
                    )
                ]
            proc = ctx.Process(target=agent, args=(str(db), tid, n, sent))
            proc.start()
            shown = 0
            while shown < n:
                await pilot.pause(0.005)
                count = len(app.query(AgentMessage))
                if count > shown:
                    now = time.time()
                    for _ in range(count - shown):
                        _, at = sent.get(timeout=10)
                        delays.append((now - at) * 1000)
                    shown = count
            proc.join()

    asyncio.run(drive())
    service.close()
    return {
        "n": len(delays),
        "p50_ms": round(statistics.median(delays), 1),
        "p95_ms": round(pct(delays, 95), 1),
        "max_ms": round(max(delays), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/triage-bench.db"))
    ap.add_argument("--conversations", type=int, default=100_000)
    ap.add_argument("--open", type=int, default=1000)
    ap.add_argument("--models", type=Path, default=None)
    ap.add_argument("--kb", type=Path, default=None)
    ap.add_argument("--select", type=int, default=200, help="tickets selected")
    ap.add_argument("--seconds", type=float, default=30.0, help="queue: how long")
    ap.add_argument("--write-rate", type=float, default=5.0, help="queue: customer msgs/s")
    ap.add_argument("--replies", type=int, default=60)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.rebuild or not args.db.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(args.db) + suffix).unlink(missing_ok=True)
        t0 = time.perf_counter()
        build_log(args.db, args.conversations, args.open)
        built_s = time.perf_counter() - t0
    else:
        built_s = None
    with ConversationLog(args.db, check=False) as log:
        sizes = {
            table: log.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("conversations", "turns", "tickets")
        }
        sizes["open_tickets"] = log.db.execute(
            "SELECT COUNT(*) FROM tickets WHERE status = 'open'"
        ).fetchone()[0]
    engine = None
    if args.models:
        from assistant.engine import DialogueEngine
        from kb.encoder import set_inference_threads

        set_inference_threads(1)
        engine = DialogueEngine.load(args.models, args.kb)
    out = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "log": {**sizes, "mb": round(args.db.stat().st_size / 2**20), "built_s": built_s},
        "select": bench_select(args.db, engine, args.select),
        "queue": bench_queue(args.db, args.seconds, args.write_rate),
        "reply": bench_reply(args.db, args.replies),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
