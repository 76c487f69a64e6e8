"""training/replay.py: the judge of `assistant eval dialogues` and `assistant calibrate`.

The judge runs on a stand-in encoder (a bag of hashed words: texts sharing words are near), so
what is checked here is the rule: the cosine bar, the same template, and a KB answer quoting
the article the exchange is about.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

from kb.passage import Passage
from training.replay import ReplyJudge, TurnResult, judge_results, kb_passages, split_claims


class BagOfWords:
    """Each text a unit vector of hashed lower-case words."""

    def encode(self, texts, max_length=128):
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for row, text in zip(out, texts):
            for w in re.findall(r"\w+", text.lower()):
                row[zlib.crc32(w.encode()) % 256] += 1.0
            row /= max(np.linalg.norm(row), 1e-9)
        return out


REFUNDS = Passage(
    "billing/refunds",
    "Refunds",
    "When the money arrives",
    "billing/refunds.md",
    0.0,
    "Refunds go back to the card you paid with. Allow 5-10 business days for your bank.",
)
CANCEL = Passage(
    "orders/cancel",
    "Cancel an order",
    "Cancel in the app",
    "orders/cancel.md",
    0.0,
    "To cancel an order open Orders in the app and tap Cancel order before it ships.",
)
ASKS = ("how do I cancel my order?", "Sure, which order is it? Give me the number please.")


def judge_with_kb() -> ReplyJudge:
    judge = ReplyJudge(BagOfWords())
    judge.use_kb([REFUNDS, CANCEL])
    return judge


def test_a_kb_answer_quoting_the_article_of_the_exchange_is_right():
    judge = judge_with_kb()
    assert judge.exchange_articles([ASKS]) == ["orders/cancel"]
    sims, on_topic, right = judge.judge_kb([CANCEL, REFUNDS], [ASKS, ASKS])
    # The agent asked a question back: nothing in the passage says it (the cosine is low),
    # but the steps to cancel answer "how do I cancel my order?".
    assert sims[0] < judge.threshold
    assert on_topic.tolist() == [True, False] and right.tolist() == [True, False]
    assert "the article the exchange is about" in judge.describe()


def test_a_kb_answer_that_says_what_the_agent_said_is_right_by_the_cosine():
    judge = judge_with_kb()
    said = ("is my money back?", "Refunds go back to the card you paid with, 5-10 business days.")
    sims, _, right = judge.judge_kb([REFUNDS], [said])
    assert sims[0] >= judge.threshold and right.tolist() == [True]


def test_without_a_kb_only_the_cosine_judges():
    judge = ReplyJudge(BagOfWords())
    assert not judge.has_kb and judge.exchange_articles([ASKS]) == [None]
    assert judge.judge_kb([CANCEL], [ASKS])[2].tolist() == [False]
    assert "article" not in judge.describe()
    # The same template matches whatever the encoder says.
    same = [("Thanks Ann, order NH-11111 is noted.", "Thanks Bob, order NH-22222 is noted.")]
    assert judge.matches(same).tolist() == [True]


def test_kb_passages_reads_a_whole_index(tiny_kb):
    passages = kb_passages(tiny_kb)
    assert len(passages) == len(tiny_kb) and all(p.article_id for p in passages)
    assert kb_passages(object()) == []


def _result(source, judged, text, true, article=""):
    r = TurnResult("d", 0, text, source, "reply", "", None, 0.0, 1.0, None, true)
    r.judged, r.article = judged, article
    return r


def test_judge_results_mark_kb_answers_on_the_exchange_s_article_right():
    results = [
        _result("kb", CANCEL.text, *ASKS, article="orders/cancel"),
        _result("kb", REFUNDS.text, *ASKS, article="billing/refunds"),
        _result("ranker", "Here are our opening hours.", *ASKS),
        _result("fallback", "", *ASKS),
    ]
    judge_results(results, judge_with_kb())
    assert [r.matched for r in results] == [True, False, False, None]
    assert [r.on_topic for r in results] == [True, False, None, None]


def test_claims_in_the_bots_own_words_and_in_quoted_articles_are_told_apart():
    article = (
        "Once an order has shipped you cannot cancel it. Refund issued: we have sent the "
        "money; your bank is processing it."
    )
    kb = (
        "Here is what our help centre says (**Returns**):\n\n- **Refund issued** \u2014 "
        "We have sent the money; your bank is processing it."
    )
    assert split_claims(kb, [article]) == ([], ['claims an action: "We have sent"'])
    # the same words, not in the cited passage: the bot's own claim
    assert split_claims(kb, ["Returns take 30 days."]) == (
        ['claims an action: "We have sent"'],
        [],
    )
    # a claim added around a quote is still the bot's
    mixed = kb + " I've refunded your order."
    own, quoted = split_claims(mixed, [article])
    assert own == ['claims an action: "I\'ve refunded"'] and quoted
    assert split_claims("Which order is it?", [article]) == ([], [])
