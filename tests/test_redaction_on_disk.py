"""Personal data never reaches the conversation log's files in clear.

Every format docs/privacy.md lists as redacted is written into every free-text field the log
stores (turn text of each role, reason, candidates, citations, conversation metadata, rating
comments, corrected replies, ticket reasons), through `ConversationLog` itself and through the
assistant service with a real (tiny) engine, in WAL mode. Then the raw bytes of the database,
its `-wal` file and any other file SQLite made beside it are searched for each value, as written
and as bare digits: none may be there, while the WAL holds the writes and after the checkpoint.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.errors import ConfigError
from assistant.log import ConversationLog
from assistant.redact import PLACEHOLDERS
from assistant.service import open_service

# One value per written form docs/privacy.md lists; distinct numbers, so a leak names its form.
SECRETS = {
    "email": ["jo@example.com", "ann @ example.org", "lee@ example.net"],
    "card": [
        "4111.1111.1111.1111",
        "5500  0000  0000  0004",
        "4012 - 8888 - 8888 - 1881",
        "5555/5555/5555/4444",
        "3782 822463 10005",
        "6011-1111-1111-1117",
        "4242424242424242",
    ],
    "iban": ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"],
    "ssn": ["123-45-6789", "078 05 1120"],
    "phone": ["5550104242", "555-0104243", "+44 20 7946 0958", "(555) 010-4244"],
}
ALL_SECRETS = [value for values in SECRETS.values() for value in values]
MESSAGE = "Hi, order NH-48213: " + ", ".join(ALL_SECRETS)


def forbidden(secret: str) -> list[bytes]:
    """The byte strings that must not be on disk for `secret`: as written, without spaces
    ("jo@example.com" for "jo @ example.com"), and its digits alone when it has seven or more."""
    forms = {secret, secret.replace(" ", "")}
    digits = re.sub(r"\D", "", secret)
    if len(digits) >= 7:
        forms.add(digits)
    return [form.encode() for form in forms]


def raw_bytes(db_path: Path) -> dict[str, bytes]:
    """Every file SQLite keeps for `db_path` (the database, -wal, -shm, -journal), by name."""
    return {p.name: p.read_bytes() for p in sorted(db_path.parent.glob(db_path.name + "*"))}


def assert_nothing_in_clear(db_path: Path) -> None:
    for name, data in raw_bytes(db_path).items():
        for secret in ALL_SECRETS:
            for form in forbidden(secret):
                assert form not in data, f"{form!r} (from {secret!r}) is in clear in {name}"


def write_everywhere(log: ConversationLog) -> tuple[str, str]:
    """Put every secret in every free-text field the log stores; return (customer, reply) ids."""
    cid = log.new_conversation(
        channel="chat",
        metadata={"note": MESSAGE, "nested": {"contact": ALL_SECRETS}, "n": 1},
    )
    customer = log.add_turn(cid, "customer", MESSAGE, intent="order_status", confidence=0.97)
    reply = log.add_turn(
        cid,
        "assistant",
        f"Thanks, we will write to you: {MESSAGE}",
        source="ranker",
        reason=f"ranker matched {MESSAGE}",
        candidates=[{"text": f"candidate {MESSAGE}", "score": 0.9}],
        citations=[
            {
                "article_id": "billing/refunds",
                "title": "Refunds",
                "section": "",
                "source": "billing/refunds.md",
                "score": 0.5,
                "text": f"passage {MESSAGE}",
            }
        ],
    )
    log.add_feedback(reply, -1, f"wrong, it was {MESSAGE}")
    log.add_correction(reply, corrected_reply=f"Should say {MESSAGE}", agent="ana")
    log.open_ticket(cid, f"customer gave {MESSAGE}")
    log.add_turn(cid, "agent", f"Ana here, I have {MESSAGE}")
    return customer, reply


def test_forbidden_forms_include_bare_digits():
    assert set(forbidden("4111.1111.1111.1111")) == {b"4111.1111.1111.1111", b"4111111111111111"}
    assert set(forbidden("ann @ example.org")) == {b"ann @ example.org", b"ann@example.org"}


def test_the_message_has_every_kind_and_the_redactions_column_says_so(tmp_path):
    db_path = tmp_path / "log.db"
    log = ConversationLog(db_path)
    customer, _ = write_everywhere(log)
    row = log.db.table("turns").get(customer)
    assert row["text"] == "Hi, order NH-48213: " + ", ".join(
        PLACEHOLDERS[kind] for kind, values in SECRETS.items() for _ in values
    )
    assert json.loads(row["redactions"]) == list(PLACEHOLDERS)
    log.close()


def test_no_secret_in_the_database_or_wal_through_the_log(tmp_path):
    db_path = tmp_path / "log.db"
    log = ConversationLog(db_path)  # WAL mode, synchronous=FULL: the writes sit in the -wal
    write_everywhere(log)
    files = raw_bytes(db_path)
    wal = files.get("log.db-wal", b"")
    # The search reads the bytes that hold the writes: every placeholder is in the WAL.
    for placeholder in PLACEHOLDERS.values():
        assert placeholder.encode() in wal, placeholder
    assert b"NH-48213" in wal  # and what is not personal data is kept as written
    assert_nothing_in_clear(db_path)
    log.close()  # checkpoint: the pages move into the main file
    assert b"[IBAN]" in raw_bytes(db_path)["log.db"]
    assert_nothing_in_clear(db_path)


def test_a_conversation_id_with_personal_data_is_refused_before_disk(tmp_path):
    db_path = tmp_path / "log.db"
    log = ConversationLog(db_path)
    for secret in ("jo@example.com", "5550104242", "DE89370400440532013000", "123-45-6789"):
        with pytest.raises(ConfigError, match="personal data"):
            log.new_conversation(conversation_id=secret)
    assert log.new_conversation(conversation_id="NH-48213") == "NH-48213"
    log.close()
    assert_nothing_in_clear(db_path)


def test_ask_refuses_a_conversation_id_with_personal_data(tmp_path):
    db_path = tmp_path / "log.db"
    result = CliRunner().invoke(
        cli, ["ask", "where is my order?", "--conversation", "jo@example.com", "--db", str(db_path)]
    )
    assert result.exit_code != 0
    assert "personal data (email)" in result.output and "jo@example.com" not in result.output
    assert not db_path.exists()  # refused before the log was opened


# -- through the assistant service, with a real engine --------------------------------------------


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory, intent_dir, ranker_dir):
    d = tmp_path_factory.mktemp("models")
    shutil.copytree(intent_dir, d / "intent")
    shutil.copytree(ranker_dir, d / "ranker")
    return d


@pytest.fixture(scope="module")
def kb_index(tmp_path_factory, tiny_st_model):
    from kb import BuildConfig, build_index

    out = tmp_path_factory.mktemp("kb") / "index"
    build_index(
        str(Path(__file__).parent / "data" / "kb"),
        str(out),
        BuildConfig(model_path=str(tiny_st_model), show_progress=False, precision="fp32"),
    )
    return out


def test_no_secret_on_disk_through_the_service(models_dir, kb_index, tmp_path):
    db_path = tmp_path / "log.db"
    svc = open_service(models_dir, kb_index, db_path)
    try:
        cid = svc.new_conversation()
        for secret in ALL_SECRETS:
            reply = svc.respond(cid, f"my details: {secret}, order NH-48213")
            assert secret not in reply.redacted_text
            if reply.turn_id:
                svc.rate(reply.turn_id, good=False)
        svc.respond(cid, MESSAGE)
        svc.request_human(cid)
        svc.respond(cid, f"still waiting, {MESSAGE}")  # muted: only the customer turn is kept
        turns = svc.transcript(cid)
        assert len(turns) >= len(ALL_SECRETS) + 2
        assert_nothing_in_clear(db_path)  # while the WAL holds the writes
    finally:
        svc.close()
    assert_nothing_in_clear(db_path)
