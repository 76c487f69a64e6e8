"""Hostile cases that already passed when issue 11 tried them, kept passing (docs/reliability.md).

SQL-looking text is stored as text; nothing anywhere unpickles a file; a blocked network changes
nothing; the chat survives a 1x1 terminal. (Huge `-k` and empty KB folders are covered in
tests/test_kb_knowledge_base.py and tests/test_kb_build.py; four concurrent `ask` processes in
tests/test_durability.py and benchmarks/concurrency.py.)
"""

from __future__ import annotations

import ast
import asyncio
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.log import ConversationLog

ROOT = Path(__file__).resolve().parent.parent

SQL_LOOKING = [
    "'; DROP TABLE turns; --",
    'x" OR 1=1; DELETE FROM conversations; --',
    "Robert'); DROP TABLE conversations;--",
    "\\'; ATTACH DATABASE '/tmp/evil.db' AS evil; --",
]


@pytest.mark.parametrize("text", SQL_LOOKING)
def test_sql_looking_text_is_stored_as_text(tmp_path, text):
    with ConversationLog(tmp_path / "c.db") as log:
        cid = log.new_conversation(metadata={"note": text})
        log.add_turn(cid, "customer", text, reason=text)
        log.open_ticket(cid, text)
        assert [t.text for t in log.transcript(cid)] == [text]
        tables = {r["name"] for r in log.db.query("SELECT name FROM sqlite_master")}
    assert {"conversations", "turns", "tickets"} <= tables
    assert not Path("/tmp/evil.db").exists()


def _calls(tree: ast.AST) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(func: ast.expr) -> str:
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def test_nothing_is_ever_unpickled():
    """No pickle, joblib or dill load anywhere; numpy loads say allow_pickle=False; torch.load
    (if ever used) says weights_only=True. Model weights are safetensors."""
    offenders = []
    for package in ("assistant", "kb", "training"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                    if any(
                        n.split(".")[0] in ("pickle", "dill", "joblib", "cloudpickle")
                        for n in names
                    ):
                        offenders.append(f"{path}:{node.lineno} imports a pickle library")
            for call in _calls(tree):
                name = _name(call.func)
                keywords = {k.arg: k.value for k in call.keywords}
                if name.endswith(("np.load", "numpy.load")):
                    flag = keywords.get("allow_pickle")
                    if not (isinstance(flag, ast.Constant) and flag.value is False):
                        offenders.append(f"{path}:{call.lineno} np.load without allow_pickle=False")
                if name.endswith("torch.load"):
                    flag = keywords.get("weights_only")
                    if not (isinstance(flag, ast.Constant) and flag.value is True):
                        offenders.append(f"{path}:{call.lineno} torch.load without weights_only")
    assert offenders == []


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, intent_dir, ranker_dir):
    import shutil

    d = tmp_path_factory.mktemp("models")
    shutil.copytree(intent_dir, d / "intent")
    shutil.copytree(ranker_dir, d / "ranker")
    return d


def test_a_blocked_network_changes_nothing(models_dir, tmp_path, monkeypatch):
    def ask(db: Path) -> dict:
        res = CliRunner().invoke(
            cli,
            ["ask", "where is my refund", "--models", str(models_dir), "--db", str(db), "--json"],
            env={"ASSISTANT_HOME": str(tmp_path / "home")},
        )
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        for key in ("latency_ms", "conversation_id", "turn_id", "reply_turn_id"):
            out.pop(key)  # new in every run
        return out

    first = ask(tmp_path / "a.db")
    attempts = []

    def refuse(self, address, *args):
        attempts.append(address)
        raise OSError("network is blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    assert ask(tmp_path / "b.db") == first
    assert attempts == []  # nothing even tried


def test_the_chat_survives_a_one_by_one_terminal(tmp_path):
    from chat_helpers import run_chat, until
    from fake_engine import ScriptedEngine

    from assistant.service import AssistantService
    from assistant.tui.app import AssistantMessage, ChatApp

    svc = AssistantService(ScriptedEngine(), ConversationLog(tmp_path / "c.db"))

    async def drive() -> None:
        app = ChatApp(svc)
        async with run_chat(app, size=(110, 34)) as pilot:
            await pilot.resize_terminal(1, 1)
            await pilot.press(*"hello", "enter")
            await until(pilot, lambda: not app.busy and app.query(AssistantMessage))
            await pilot.resize_terminal(110, 34)
            await pilot.press("f1")
            await pilot.press("escape")
            await pilot.press(*"again", "enter")
            await until(pilot, lambda: len(app.query(AssistantMessage)) == 2)

    asyncio.run(drive())
    svc.close()
    with ConversationLog(tmp_path / "c.db") as log:
        (summary,) = log.conversations()
        assert summary.n_turns == 4
