"""The text of a KB answer: the passage that answers, readable tables, and the engine's use."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.bank import BankEntry, ResponseBank
from assistant.config import EngineConfig
from assistant.engine import DialogueEngine
from assistant.kb_answer import (
    asks,
    chat_text,
    choose_passage,
    drop_signposts,
    is_signpost,
    kb_answer,
    names_a_row,
    table_lines,
)
from assistant.ranker import ResponseRanker
from kb.passage import Passage

INTRO = Passage(
    "orders/change-address",
    "Change the shipping address",
    "",
    "orders/change-address.md",
    0.64,
    "Typed the wrong street? This article explains the window, the steps and what to do.",
)
STEPS = Passage(
    "orders/change-address",
    "Change the shipping address",
    "Update the address yourself",
    "orders/change-address.md",
    0.60,
    "1. Open Orders.\n2. Tap Edit delivery address.\n3. Save.",
)
OTHER = Passage("orders/cancel", "Cancel an order", "", "orders/cancel.md", 0.63, "Cancel it.")


def test_steps_win_over_a_signpost_intro_of_the_same_article():
    chosen = choose_passage([INTRO, OTHER, STEPS], "how do I change my delivery address?")
    assert chosen is STEPS


def test_the_article_never_changes_and_far_lower_passages_never_win():
    # OTHER (another article) is never quoted when it is not the best passage
    assert choose_passage([INTRO, OTHER], "how do I cancel").article_id == INTRO.article_id
    far = Passage(*STEPS.to_dict().values())  # same passage, far lower score
    far = Passage(far.article_id, far.title, far.section, far.source, 0.40, far.text)
    assert choose_passage([INTRO, far], "how do I update the address") is INTRO


def test_the_section_named_by_the_question_wins_a_close_call():
    fees = Passage("a", "Shipping", "Fees", "a.md", 0.70, "Standard shipping costs 5 EUR.")
    times = Passage("a", "Shipping", "Delivery times", "a.md", 0.69, "Standard takes 3 days.")
    assert choose_passage([fees, times], "what are the delivery times?") is times
    assert choose_passage([fees, times], "how much is it?") is fees  # no section named: best


# A forum thread: the rider's post matches the customer's question best, the answer is below.
POST = Passage(
    "travel",
    "Taking the bike on holiday",
    "Original post by mireille_v",
    "travel.html",
    0.82,
    "We'd love to bring the bike to Mallorca. Is it possible to fly with it? What do people do?",
)
ANSWER = Passage(
    "travel",
    "Taking the bike on holiday",
    "Answer from Sanne",
    "travel.html",
    0.57,
    "The bike can fly, the battery can't: airlines refuse lithium batteries above 160 Wh.",
)


def test_a_section_that_prepares_for_the_task_gives_way_to_the_task():
    before = Passage(
        "reset",
        "Factory reset",
        "Before a factory reset",
        "r.md",
        0.64,
        "1. Remove the device from the app.\n2. Download your clips.\n3. Note your settings.",
    )
    how = Passage(
        "reset",
        "Factory reset",
        "Reset button by device",
        "r.md",
        0.63,
        "Hold the reset button for 10 seconds until the light blinks.",
    )
    question = "how do I reset my camera to factory settings?"
    assert choose_passage([before, how], question) is how
    # asked what to do before, the preparation is the answer
    assert choose_passage([before, how], "what should I do before a factory reset?") is before


def test_a_post_that_only_asks_gives_way_to_the_answer_of_its_thread():
    assert asks(POST) and not asks(ANSWER)
    assert choose_passage([POST, OTHER, ANSWER], "can i fly with my ebike") is ANSWER
    # no other passage of the thread was found: the post is all there is to quote
    assert choose_passage([POST, OTHER], "can i fly with my ebike") is POST
    # a question inside an answer, a table or steps are not "asking"
    faq = Passage("a", "Gifts", "", "a.md", 0.5, "Can I return a gift? Yes, within 30 days.")
    steps = Passage("a", "T", "", "a.md", 0.5, "1. Open Orders.\n2. Tap Return.\nDone?")
    assert not asks(faq) and not asks(steps)


CODES = Passage(
    "codes",
    "Error codes",
    "",
    "codes.md",
    0.68,
    "| Code | What it means |\n|---|---|\n| E03 | Battery too hot or cold |\n| E05 | Cells |",
)
DEALER = Passage(
    "codes",
    "Error codes",
    "Codes that mean see the dealer",
    "codes.md",
    0.75,
    "E07 is the one to take seriously: book a dealer visit.",
)


def test_the_table_row_the_question_names_wins_a_close_call():
    assert names_a_row(CODES, "display says E03 what does that mean")
    assert not names_a_row(CODES, "what does code mean")  # the header names no row
    assert not names_a_row(DEALER, "display says E03")
    # "mean" names DEALER's section too: the named row still wins
    assert choose_passage([DEALER, CODES], "display says E03 what does that mean") is CODES
    assert choose_passage([DEALER, CODES], "what does the display mean") is DEALER
    text, _ = kb_answer([DEALER, CODES], "display says E03 what does that mean")
    assert "**E03** — What it means: Battery too hot or cold" in text and "E05" not in text


def test_a_best_passage_alone_is_quoted():
    assert choose_passage([OTHER], "anything") is OTHER
    with pytest.raises(ValueError):
        choose_passage([], "anything")


def test_signposts_are_recognised_and_dropped_from_the_quote():
    assert is_signpost(INTRO)
    assert not is_signpost(STEPS)  # a section of its own is never the intro
    content = Passage("a", "T", "", "a.md", 0.5, "Refunds take 5 days. They go to your card.")
    assert not is_signpost(content)
    assert drop_signposts(INTRO.text) == "Typed the wrong street?"
    only = "This page lists our fees."
    assert drop_signposts(only) == only  # nothing else to say: keep it


TABLE = [
    "| Code | Meaning | What to do |",
    "|---|---|---|",
    "| E1 | No power on the R wire | Check the breaker |",
    "| E2 | No C-wire | Fit the adapter |",
]


def test_a_wide_table_becomes_one_line_per_row_with_its_headers():
    assert table_lines(TABLE) == [
        "- **E1** — Meaning: No power on the R wire. What to do: Check the breaker",
        "- **E2** — Meaning: No C-wire. What to do: Fit the adapter",
    ]


def test_rows_named_by_the_question_are_the_ones_shown():
    assert table_lines(TABLE, "my thermostat shows E2, what now?") == [
        "- **E2** — Meaning: No C-wire. What to do: Fit the adapter"
    ]


DEVICES = [
    "| Device | How to factory reset |",
    "|---|---|",
    "| Nimbus Thermostat T2 | Open **Settings > Reset** |",
    "| Nimbus Cam | Hold the setup button for 20 seconds |",
    "| Nimbus Smart Plug | Hold the button for 15 seconds |",
]


def test_a_row_named_by_a_word_only_it_has_is_the_one_shown():
    assert table_lines(DEVICES, "how do I factory reset my thermostat?") == [
        "- **Nimbus Thermostat T2** — How to factory reset: Open **Settings > Reset**"
    ]
    both = table_lines(DEVICES, "resetting the smart plugs and the cam")
    assert [line.split(" — ")[0] for line in both] == [
        "- **Nimbus Cam**",
        "- **Nimbus Smart Plug**",
    ]
    # a word every row has names none of them: the whole table
    assert len(table_lines(DEVICES, "how do I reset a nimbus device?")) == 3


def test_a_table_of_cases_is_not_narrowed_by_a_word():
    cases = [
        "| Situation | Refund |",
        "|---|---|",
        "| Yearly, cancelled within 30 days of payment | Full |",
        "| Yearly, cancelled after 30 days | None |",
    ]
    assert len(table_lines(cases, "my yearly payment, what refund do I get?")) == 2


def test_a_table_without_header_keeps_its_cells():
    assert table_lines(["| Gold | 10 trips |", "| Silver | 4 trips |"]) == [
        "- **Gold** — 10 trips",
        "- **Silver** — 4 trips",
    ]


def test_chat_text_renders_tables_between_paragraphs():
    text = "Find your code below.\n" + "\n".join(TABLE) + "\n\nStill stuck? Call us."
    out = chat_text(text)
    assert "|" not in out
    assert out.startswith("Find your code below.\n- **E1**")
    assert out.endswith("Still stuck? Call us.")


def test_kb_answer_cites_heading_and_cuts_long_text_at_a_line():
    lines = "\n".join(f"{i}. Step number {i} of a long procedure." for i in range(1, 40))
    long = Passage("a", "Guide", "Steps", "a.md", 0.7, lines)
    text, chosen = kb_answer([long], "how do I do it", limit=200)
    assert chosen is long
    assert text.startswith("Here is what our help centre says (**Guide › Steps**):\n\n1. Step")
    body = text.split("\n\n", 1)[1]
    assert body.endswith(" …") and len(body) <= 202
    assert body.splitlines()[-2].endswith("procedure.")  # cut after a whole line


# -- the engine quotes and cites the chosen passage ------------------------------------------


class _Intent:
    oos_label = "oos"
    version = "intent:test"

    def predict(self, texts, k=3):
        from assistant.intent import decide

        return decide(np.array([[0.8, 0.2]]), ["change_address", "oos"], "oos", 0.3, k)


class _Ranker:
    context_turns = 3
    context_text = ResponseRanker.context_text
    version = "ranker:test"
    path = "/nonexistent"

    def encode_contexts(self, texts):
        return np.array([[1.0, 0.0]] * len(texts), dtype=np.float32)


def _bank() -> ResponseBank:  # one reply, far from every context (score 0.1)
    emb = np.array([[0.1, np.sqrt(1 - 0.01)]], dtype=np.float32)
    return ResponseBank([BankEntry("Anything else?", 5, {})], emb)


class _KB:
    model_path = "/elsewhere"

    def search(self, text, k=5):
        return [INTRO, OTHER, STEPS][:k]


def test_engine_quotes_the_steps_and_cites_them_first():
    engine = DialogueEngine(_Intent(), _Ranker(), _bank(), _KB(), EngineConfig())
    decision = engine.decide([], "how do I change my delivery address?")
    assert decision.source == "kb"
    assert "**Change the shipping address › Update the address yourself**" in decision.reply
    assert "2. Tap Edit delivery address." in decision.reply
    assert decision.citations == [STEPS, INTRO, OTHER]  # the quoted one first, then by search
    few = DialogueEngine(_Intent(), _Ranker(), _bank(), _KB(), EngineConfig(n_citations=2))
    assert few.decide([], "how do I change my delivery address?").citations == [STEPS, INTRO]
