"""Tests for assistant/demo/dialogues.py and the demo dialogue files it writes."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from assistant.demo import dialogues as dg
from assistant.demo.content import SLOTS, load_content

ROOT = Path(__file__).resolve().parents[1]
CONTENT = load_content()
LABELS = CONTENT.labels
TRAIN_FILE = ROOT / "assistant" / "demo_data" / "dialogues.jsonl"
TEST_FILE = ROOT / "assistant" / "demo_data" / "dialogues_test.jsonl"
VAL_FILE = ROOT / "assistant" / "demo_data" / "dialogues_val.jsonl"


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def train() -> list[dict]:
    return _read(TRAIN_FILE)


@pytest.fixture(scope="module")
def test_set() -> list[dict]:
    return _read(TEST_FILE)


@pytest.fixture(scope="module")
def small() -> list[dict]:
    return dg.generate_dialogues(150, seed=3)


def _customer_turns(dialogues: list[dict]) -> list[dict]:
    return [t for d in dialogues for t in d["turns"] if t["role"] == "customer"]


def _all_texts(dialogues: list[dict]) -> list[str]:
    return [t["text"] for d in dialogues for t in d["turns"]]


def _check_format(dialogues: list[dict], id_prefix: str) -> None:
    ids = [d["id"] for d in dialogues]
    assert len(set(ids)) == len(ids)
    created = [d["created"] for d in dialogues]
    assert created == sorted(created), "dialogues are in chronological order"
    for d in dialogues:
        assert list(d) == ["id", "turns", "channel", "created", "resolved"], d["id"]
        assert re.fullmatch(rf"{id_prefix}-\d{{5}}", d["id"]), d["id"]
        assert re.fullmatch(
            r"2025-(09|1[0-2])-\d\dT\d\d:\d\d:00Z|2026-0[1-3]-\d\dT\d\d:\d\d:00Z", d["created"]
        ), d["created"]
        assert d["channel"] in ("chat", "email")
        assert isinstance(d["resolved"], bool)
        roles = [t["role"] for t in d["turns"]]
        assert roles == ["customer", "agent"] * (len(roles) // 2), d["id"]
        assert 2 <= roles.count("customer") <= dg.MAX_CUSTOMER_TURNS, d["id"]
        assert "intent" in d["turns"][0], f"{d['id']}: the opening message has an intent"
        for t in d["turns"]:
            assert set(t) <= {"role", "text", "intent"}
            assert isinstance(t["text"], str) and t["text"].strip() == t["text"] and t["text"]
            assert "{" not in t["text"] and "}" not in t["text"], t["text"]
            if "intent" in t:
                assert t["role"] == "customer" and t["intent"] in LABELS, t


# --- format and determinism ---------------------------------------------------------------------


def test_generated_dialogues_are_well_formed(small: list[dict]) -> None:
    assert len(small) == 150
    _check_format(small, "demo")


def test_shipped_files_are_well_formed(train: list[dict], test_set: list[dict]) -> None:
    _check_format(train, "demo")
    _check_format(test_set, "test")
    assert TRAIN_FILE.stat().st_size < 3_000_000 and TEST_FILE.stat().st_size < 3_000_000


def test_same_seed_gives_identical_output() -> None:
    a = json.dumps(dg.generate_dialogues(120, seed=11), ensure_ascii=False)
    b = json.dumps(dg.generate_dialogues(120, seed=11), ensure_ascii=False)
    c = json.dumps(dg.generate_dialogues(120, seed=12), ensure_ascii=False)
    assert a == b
    assert a != c


def test_generation_does_not_touch_the_global_random_state() -> None:
    random.seed(5)
    expected = random.random()
    random.seed(5)
    dg.generate_dialogues(30, seed=1)
    assert random.random() == expected


def test_shipped_files_match_the_generator(tmp_path: Path) -> None:
    train = dg.generate_dialogues(dg.TRAIN_SIZE, dg.TRAIN_SEED)
    test = dg.held_out(dg.TEST_SIZE, dg.TEST_SEED, train)
    dg.write_jsonl(train, tmp_path / "train.jsonl")
    dg.write_jsonl(test, tmp_path / "test.jsonl")
    assert (tmp_path / "train.jsonl").read_bytes() == TRAIN_FILE.read_bytes(), (
        "assistant/demo_data/dialogues.jsonl is stale: run `python -m assistant.demo.dialogues`"
    )
    assert (tmp_path / "test.jsonl").read_bytes() == TEST_FILE.read_bytes()
    val = dg.held_out(dg.VAL_SIZE, dg.VAL_SEED, train + test, id_prefix="val")
    dg.write_jsonl(val, tmp_path / "val.jsonl")
    assert (tmp_path / "val.jsonl").read_bytes() == VAL_FILE.read_bytes()


def test_validation_file_shares_no_opening_with_training_or_test(
    train: list[dict], test_set: list[dict]
) -> None:
    val = _read(VAL_FILE)
    _check_format(val, "val")
    seen = {d["turns"][0]["text"].lower() for d in train + test_set}
    assert len(val) == dg.VAL_SIZE
    assert not [d["id"] for d in val if d["turns"][0]["text"].lower() in seen]


def test_rejects_an_empty_request() -> None:
    with pytest.raises(ValueError, match="n=0"):
        dg.generate_dialogues(0, seed=1)


# --- coverage and mix ---------------------------------------------------------------------------


def test_every_label_has_enough_examples_and_openings(train: list[dict]) -> None:
    assert len(train) >= 1600
    examples = Counter(t["intent"] for t in _customer_turns(train) if "intent" in t)
    openings = Counter(d["turns"][0]["intent"] for d in train)
    assert set(examples) == set(LABELS)
    low = {label: n for label, n in examples.items() if n < 30}
    assert not low, f"labels with fewer than 30 customer examples: {low}"
    low = {label: openings[label] for label in LABELS if openings[label] < 30}
    assert not low, f"labels opening fewer than 30 dialogues: {low}"


def test_frequency_mix_is_realistic(train: list[dict]) -> None:
    openings = Counter(d["turns"][0]["intent"] for d in train)
    median = sorted(openings.values())[len(openings) // 2]
    assert openings["order_status"] >= 2 * openings["delete_account"]
    assert openings["device_offline"] >= 2 * openings["delete_account"]
    assert openings["order_status"] > median and openings["device_offline"] > median
    assert openings.most_common(1)[0][0] == "order_status"


def test_held_out_file_shares_no_opening_with_training(
    train: list[dict], test_set: list[dict]
) -> None:
    assert 250 <= len(test_set) <= 350
    seen = {d["turns"][0]["text"].lower() for d in train}
    assert not [d["id"] for d in test_set if d["turns"][0]["text"].lower() in seen]
    assert {t["intent"] for t in _customer_turns(test_set) if "intent" in t} == set(LABELS)
    openings = Counter(d["turns"][0]["intent"] for d in test_set)
    assert min(openings[label] for label in LABELS) >= 5


def test_opening_schedule_has_floor_and_exact_size() -> None:
    schedule = dg.opening_schedule(1700, random.Random(0))
    counts = Counter(schedule)
    assert len(schedule) == 1700 and set(counts) == set(LABELS)
    assert min(counts.values()) >= 30
    assert counts["order_status"] > counts["delete_account"]
    small = Counter(dg.opening_schedule(300, random.Random(0)))
    assert sum(small.values()) == 300 and min(small.values()) >= 6


# --- realism and diversity ----------------------------------------------------------------------


def test_openings_are_diverse(train: list[dict]) -> None:
    openings = [d["turns"][0]["text"] for d in train]
    assert len(set(openings)) / len(openings) >= 0.9
    per_label: dict[str, set[str]] = {}
    for d in train:
        per_label.setdefault(d["turns"][0]["intent"], set()).add(d["turns"][0]["text"])
    thin = {label: len(texts) for label, texts in per_label.items() if len(texts) < 20}
    assert not thin, f"labels with fewer than 20 distinct openings: {thin}"


def test_dialogues_are_multi_turn_with_varied_shapes(train: list[dict]) -> None:
    n_customer = Counter(sum(t["role"] == "customer" for t in d["turns"]) for d in train)
    assert set(n_customer) == {2, 3, 4, 5, 6}
    mean = sum(k * v for k, v in n_customer.items()) / len(train)
    assert 3.0 <= mean <= 4.5
    channels = Counter(d["channel"] for d in train)
    assert 0.08 <= channels["email"] / len(train) <= 0.25
    resolved = sum(d["resolved"] for d in train) / len(train)
    assert 0.7 <= resolved <= 0.95
    # Detail turns (order numbers, emails, device state) carry no intent.
    details = [t for t in _customer_turns(train) if "intent" not in t]
    assert len(details) >= len(train) // 2
    assert any(re.fullmatch(r"NH-\d{5}", t["text"]) for t in details)
    # Human hand-overs name a ticket; topic changes give a dialogue two service intents.
    assert sum("T-" in t["text"] for d in train for t in d["turns"] if t["role"] == "agent") >= 100
    two_topics = [
        d
        for d in train
        if len({t["intent"] for t in d["turns"] if t.get("intent") in CONTENT.intents}) >= 2
    ]
    assert len(two_topics) >= 100


def test_some_customer_messages_are_sloppy_chat(train: list[dict]) -> None:
    chat = [
        t["text"]
        for d in train
        if d["channel"] == "chat"
        for t in d["turns"]
        if t["role"] == "customer"
    ]
    lower = [t for t in chat if t == t.lower() and re.search("[a-z]", t)]
    assert 0.10 <= len(lower) / len(chat) <= 0.45
    assert any(re.search(r"\b(dont|cant|im|wont|doesnt|isnt)\b", t) for t in chat)
    short = [t for t in chat if len(t.split()) <= 3]
    long = [t for t in chat if len(t.split()) >= 25]
    assert len(short) >= 100 and len(long) >= 30


def test_agent_replies_are_varied_and_personal(train: list[dict]) -> None:
    agent = [t["text"] for d in train for t in d["turns"] if t["role"] == "agent"]
    names = set(CONTENT.company.customers.first_names)
    assert sum(any(n in t for n in names) for t in agent) / len(agent) >= 0.3
    assert len({re.sub(r"\b(NH|T)-\d{5}\b", "#", t) for t in agent}) >= 1000
    for intent in CONTENT.intents.values():
        if intent.detail != "none":
            assert 3 <= len(intent.ask) <= 6, intent.name
        replies = [r for o in intent.outcomes for r in o.replies]
        assert len(replies) >= 3 and all(len(o.replies) >= 2 for o in intent.outcomes), intent.name


def test_agent_names_disappear_when_templatized(train: list[dict]) -> None:
    # The response bank turns names into {name}; a name that survives would be shown to strangers.
    from assistant.placeholders import templatize

    names = set(CONTENT.company.customers.first_names)
    leaks = [
        t["text"]
        for d in train[:800]
        for t in d["turns"]
        if t["role"] == "agent" and names & set(re.findall(r"[A-Z][a-z]+", templatize(t["text"])))
    ]
    assert not leaks, leaks[:5]


def test_identical_texts_never_get_different_labels(train: list[dict]) -> None:
    # The intent trainer rejects a data set where one text carries two labels.
    by_text: dict[str, set[str]] = {}
    for t in _customer_turns(train):
        if "intent" in t:
            by_text.setdefault(" ".join(t["text"].lower().split()), set()).add(t["intent"])
    conflicts = {text: labels for text, labels in by_text.items() if len(labels) > 1}
    assert not conflicts, conflicts


# --- safety and policy --------------------------------------------------------------------------


def test_no_secrets_or_real_contact_details(train: list[dict], test_set: list[dict]) -> None:
    texts = _all_texts(train) + _all_texts(test_set)
    for text in texts:
        assert not re.search(r"(?:\d[ -]?){12,}", text), f"card-like number in {text!r}"
        for domain in re.findall(r"@([\w.-]+\w)", text):
            assert domain in ("example.com", "example.org", "example.net", "nimbushome.example")
        for phone in re.findall(r"\(\d{3}\) \d{3}-\d{4}", text):
            assert phone.startswith("(555) 01"), phone
        assert not re.search(r"password(?:\s*:| is (?!wrong|not|incorrect))\s*\w", text, re.I)


def test_context_fills_exactly_the_declared_slots() -> None:
    # The content check accepts a placeholder when it is in SLOTS, so the generator must fill
    # every one of them, with text that holds no placeholder of its own.
    rng = random.Random(0)
    for intent in (None, *CONTENT.intents.values()):
        person = dg._person(rng, CONTENT)
        ctx = dg._context(rng, CONTENT, date(2026, 1, 15), person, intent, None)
        assert set(ctx) == set(SLOTS)
        assert all(isinstance(v, str) and v and "{" not in v for v in ctx.values()), ctx


def test_generator_writes_what_the_content_says() -> None:
    greeting = replace(CONTENT.conversation.greeting, heads=("hey hey",), tails=("",))
    content = replace(CONTENT, conversation=replace(CONTENT.conversation, greeting=greeting))
    dialogues = dg.generate_dialogues(300, seed=5, content=content)
    greetings = [d["turns"][0]["text"] for d in dialogues if d["turns"][0]["intent"] == "greeting"]
    assert len(greetings) >= 6
    assert all(text.lower().rstrip(".") == "hey hey" for text in greetings), greetings
    assert dialogues != dg.generate_dialogues(300, seed=5)


def test_unknown_opening_label_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown opening label 'weather'"):
        dg._dialogue(random.Random(0), CONTENT, "weather")


def test_chat_noise_keeps_order_numbers_and_emails() -> None:
    text = "Hi, I can't find order NH-48213, my email is priya.shah@example.com. Thanks!"
    for seed in range(30):
        noisy = dg.chat_noise(text, random.Random(seed))
        assert "NH-48213" in noisy and "priya.shah@example.com" in noisy
        assert noisy != text
    assert dg.chat_noise(text, random.Random(4)) == dg.chat_noise(text, random.Random(4))
