"""assistant/grounding.py: the specifics a reply states, and whether this conversation or the
KB holds them."""

from __future__ import annotations

import numpy as np

from assistant.grounding import Grounds, kb_grounds, specifics, ungrounded
from kb import Passage


def kinds(text, common=None):
    return [(s.kind, s.surface) for s in specifics(text, common)]


def test_specifics_of_each_kind():
    assert kinds("Order NH-12345 costs $129.99 and ships at 11:30.") == [
        ("number", "NH-12345"),
        ("number", "$129.99"),
        ("number", "11:30"),
    ]
    assert kinds("Write to jo@example.com or call +1 (555) 010-4242.") == [
        ("email", "jo@example.com"),
        ("phone", "+1 (555) 010-4242"),
    ]
    assert kinds("It arrives Wednesday, September 3.") == [
        ("date", "Wednesday"),
        ("date", "September 3"),
    ]
    # names: runs of capitalised words, not a sentence's ordinary first word, not acronyms
    assert kinds("Your Nimbus Cam is at Bird Dog in San Jose, ET time. I think so.") == [
        ("name", "Nimbus Cam"),
        ("name", "Bird Dog"),
        ("name", "San Jose"),
    ]
    assert kinds("Bazille is nice.") == []  # without a vocabulary: a known gap
    assert kinds("Bazille is nice.", common={"is", "nice"}) == [("name", "Bazille")]


def test_grounded_in_the_customers_words_with_normalised_forms():
    g = Grounds.of(["hi, order nh-12345 please, I live on maple street", "call 555-010-4242"])
    assert ungrounded("Order NH-12345 goes to Maple Street.", g) == []
    assert ungrounded("We'll call +1 (555) 010-4242.", g) == []
    assert ungrounded("Order NH-54321 goes to Maple Road.", g) == ["NH-54321", "Maple Road"]
    # a run of words must occur together
    assert ungrounded("See you on Street Maple.", g) == ["Street Maple"]


def test_vouched_text_passes_and_base_grounds_are_consulted():
    g = Grounds.of(["where is it?"])
    assert ungrounded("Open 7am-10pm ET.", g) == ["7am-10pm"]
    assert ungrounded("Open 7am-10pm ET.", g, vouched="Open 7am–10pm ET.") == []
    g.base = Grounds.of(["Chat is open 7am–10pm ET every day."])
    assert ungrounded("Open 7am-10pm ET.", g) == []


class TinyKB:
    """The public surface `kb_grounds` reads: len, dimension, search_embedding."""

    dimension = 4

    def __init__(self, texts):
        self.texts = texts
        self.asked = []

    def __len__(self):
        return len(self.texts)

    def search_embedding(self, embedding, k=5, text=None):
        self.asked.append((np.asarray(embedding).shape, k))
        return [Passage(f"a{i}", "Title", "", "a.md", 0.5, t) for i, t in enumerate(self.texts)]


def test_kb_grounds_reads_every_passage_once():
    kb = TinyKB(["Returns within 30 days.", "Support: help@nimbus.example"])
    g = kb_grounds(kb)
    assert kb.asked == [((4,), 2)]
    assert ungrounded("You have 30 days; write to help@nimbus.example.", g) == []
    assert not kb_grounds(object())
