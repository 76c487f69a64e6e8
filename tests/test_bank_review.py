"""assistant/review.py and `assistant bank ...`: decisions on bank entries, the CSV round trip,
and decisions that survive retraining."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.bank import BankEntry, ResponseBank
from assistant.cli import cli
from assistant.errors import ConfigError, DataError
from assistant.review import Reviews, entry_id, export_csv, read_csv
from training.bank import build_bank
from training.data import Dialogue, Turn

TEXTS = [
    ("Could you share the order number?", 12),
    ("I've refunded order {order_number}.", 5),
    ("Have a great day!", 3),
]


@pytest.fixture
def models(tmp_path):
    entries = [BankEntry(t, n, {"order_status": n}, conversations=n) for t, n in TEXTS]
    ResponseBank(entries, np.ones((len(entries), 3), dtype=np.float32)).save(
        tmp_path / "models" / "ranker"
    )
    return tmp_path / "models"


def run(*args):
    res = CliRunner().invoke(cli, ["bank", *map(str, args)])
    return res.exit_code, res.output


def test_ids_are_stable_hashes_of_the_normalised_text():
    assert entry_id("Have a great day!") == entry_id("Hi,\n\nhave a  great day!\n\nBest,\nBo")
    assert entry_id("Have a great day!") != entry_id("Have a nice day!")


def test_decisions_round_trip_and_validate(tmp_path):
    e = BankEntry("Could you share the order number?", 3)
    reviews = Reviews(tmp_path / "r.json")
    reviews.decide(e, "edited", text="Which order, {name}?", by="ana")
    reviews.save()
    back = Reviews.load(tmp_path / "r.json")
    r = back.decisions[e.id]
    assert (r.status, r.text, r.by, r.original) == ("edited", "Which order, {name}?", "ana", e.text)
    with pytest.raises(ConfigError, match="unknown placeholder '{order}'"):
        reviews.decide(e, "edited", text="Order {order}?")
    with pytest.raises(ConfigError, match="empty"):
        reviews.decide(e, "edited", text="  ")
    reviews.decide(e, "unreviewed")
    assert e.id not in reviews.decisions
    (tmp_path / "bad.json").write_text('{"kind": "bank-reviews",\n "reviews": [}')
    with pytest.raises(DataError, match=r"bad.json:2: invalid JSON"):
        Reviews.load(tmp_path / "bad.json")


def test_review_command_approves_bars_edits_and_lists(models):
    bank = ResponseBank.load(models / "ranker")
    refund = next(e for e in bank.entries if e.text.startswith("I've refunded"))
    code, out = run("review", "--models", models, "--list")
    assert code == 0 and refund.id in out and "agent_only" in out
    code, out = run("review", "--models", models, "--approve", refund.id[:6], "--by", "ana")
    assert code == 0 and "approved" in out
    day = next(e for e in bank.entries if e.text == "Have a great day!")
    code, out = run(
        "review",
        "--models",
        models,
        "--bar",
        day.id,
        "--edit",
        bank.entries[0].id,
        "Which order is it (NH-...)?",
    )
    assert code == 0
    saved = json.loads((models / "bank_reviews.json").read_text())
    assert {r["status"] for r in saved["reviews"]} == {"approved", "barred", "edited"}
    back = ResponseBank.load(models / "ranker")
    by_id = {e.id: e for e in back.entries}
    assert by_id[refund.id].status == "approved" and not by_id[refund.id].agent_only
    assert by_id[day.id].agent_only
    assert by_id[bank.entries[0].id].text == "Which order is it (NH-...)?"
    code, out = run("review", "--models", models, "--list", "--status", "barred", "--json")
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["id"] for r in rows] == [day.id] and rows[0]["agent_only"] is True
    code, out = run("review", "--models", models, "--show", refund.id)
    assert "claims an action" in out and "uses:          5 in 5 conversations" in out
    code, out = run("review", "--models", models, "--approve", "zzzz")
    assert code == 1 and "no entry with id 'zzzz'" in out and "Traceback" not in out


def test_csv_round_trip(models, tmp_path):
    out = tmp_path / "bank.csv"
    assert run("export-csv", "--models", models, "--out", out)[0] == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["text"] for r in rows] == [t for t, _ in TEXTS]
    assert rows[0]["uses"] == "12" and rows[1]["kind"] == "agent_only"
    rows[1]["status"] = "barred"
    rows[0]["text"] = "Which order is it?"  # an edit, whatever the status column says
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    code, msg = run("import-csv", "--models", models, out, "--dry-run")
    assert code == 0 and "barred 1, edited 1" in msg
    assert not (models / "bank_reviews.json").exists()
    code, msg = run("import-csv", "--models", models, out)
    assert code == 0 and "recorded: barred 1, edited 1" in msg
    bank = ResponseBank.load(models / "ranker")
    assert [e.status for e in bank.entries] == ["edited", "barred", "unreviewed"]
    # importing the same file again changes nothing
    code, msg = run("import-csv", "--models", models, out)
    assert "nothing to change" in msg


@pytest.mark.parametrize(
    "row, says",
    [
        ({"id": "0123456789ab", "status": "approved", "text": "x"}, "is not in this bank"),
        ({"status": "maybe"}, "status 'maybe' is not one of"),
        ({"status": "edited", "text": "Order {order}?"}, "unknown placeholder"),
        ({"status": "barred", "text": "changed"}, "is barred and its text was changed"),
    ],
)
def test_csv_errors_name_file_and_line(models, tmp_path, row, says):
    bank = ResponseBank.load(models / "ranker")
    path = tmp_path / "b.csv"
    export_csv(bank.entries, path)
    rows = list(csv.DictReader(path.open()))
    rows[1].update(row)
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(DataError, match=rf"b.csv:3: .*{says}"):
        read_csv(path, bank.entries)
    code, out = run("import-csv", "--models", models, path)
    assert code == 1 and "b.csv:3" in out and not (models / "bank_reviews.json").exists()


def test_csv_needs_its_columns(models, tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("id,words\nabc,hi\n")
    with pytest.raises(DataError, match=r"b.csv:1: missing column\(s\) status, text"):
        read_csv(path, ResponseBank.load(models / "ranker").entries)


def test_decisions_survive_retraining():
    def history(reply):
        return [
            Dialogue(f"c{i}", [Turn("customer", "hi", "greeting"), Turn("agent", reply)])
            for i in range(3)
        ]

    first = [BankEntry(**e) for e in build_bank(history("Could you share the order number?"))]
    reviews = Reviews()
    reviews.decide(first[0], "edited", text="What's the order number (NH-...)?", by="ana")
    # retrained on new history where the same reply came by e-mail: same id, decision kept
    again = build_bank(
        history("Hi Sam,\n\nCould you share the order number?\n\nBest,\nBo"), reviews=reviews
    )
    assert again[0]["id"] == first[0].id
    assert again[0]["status"] == "edited"
    assert again[0]["text"] == "What's the order number (NH-...)?"
    assert again[0]["original"] == "Could you share the order number?"


def test_training_the_ranker_applies_the_review_file(tmp_path, dialogues, tiny_st_model):
    from training.ranker import RankerTrainConfig, train_ranker

    out = tmp_path / "models" / "ranker"
    text = "Refunds take 5-10 business days after we receive the item."
    reviews = Reviews(tmp_path / "models" / "bank_reviews.json")
    reviews.decide(BankEntry(text, 1), "barred", by="ana")
    reviews.save()
    manifest = train_ranker(
        RankerTrainConfig(
            data=str(dialogues),
            out=str(out),
            epochs=0,
            base_model=str(tiny_st_model),
            batch_size=8,
            max_pairs=64,
            val_samples=10,
            lexical=False,
        ),
        log=lambda m: None,
    )
    rows = [json.loads(line) for line in (out / "bank.jsonl").read_text().splitlines()]
    assert {r["text"]: r["status"] for r in rows}[text] == "barred"
    assert manifest["bank"]["format_version"] == 2 and manifest["bank"]["reviews"] == 1
    assert manifest["bank"]["statuses"]["barred"] == 1


def test_a_versioned_models_directory_keeps_one_review_file_at_its_top(tmp_path):
    from assistant.review import reviews_path

    ranker = tmp_path / "models" / "versions" / "7" / "ranker"
    bank = ResponseBank([BankEntry("Have a great day!", 3)], np.ones((1, 3), dtype=np.float32))
    bank.save(ranker)
    top = tmp_path / "models" / "bank_reviews.json"
    assert reviews_path(ranker, root=tmp_path / "models") == top  # where a first one goes
    reviews = Reviews(top)
    reviews.decide(bank.entries[0], "barred", by="ana")
    reviews.save()
    # any version's ranker (and a candidate built under versions/) finds it
    assert reviews_path(ranker) == top
    assert ResponseBank.load(ranker).entries[0].status == "barred"
    candidate = tmp_path / "models" / "versions" / ".candidate-1" / "ranker"
    assert reviews_path(candidate) == top
