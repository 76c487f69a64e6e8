"""What a customer's words say about the conversation itself, beside their intent.

The policy (`assistant.engine`) reads the current message with these, and the log
(`assistant.log.state`) reads stored customer turns with the same functions, so the count of
unhelpful turns in a row is the same live and after a reload.

- `asks_for_human`: "can I talk to a person", "this is not helping, can you pass me on";
- `is_complaint`: "I want to make a complaint" (complaints go to a person);
- `is_frustrated`: "this is not helping", "you're not listening", "I already told you";
- `is_annoyed`: "this is ridiculous", "fed up" (counts only after an unhelpful reply);
- `is_noise`: nothing to answer: "hmm", "what?", "??", "eh", keyboard mash such as "asdfgh";
- `same_question`: the customer wrote (nearly) the same message again;
- `customer_signal`: which of these makes a message an unhelpful turn.

They are deliberately plain regular expressions and word lists: cheap (microseconds a message),
readable, and testable phrase by phrase. Every pattern is anchored on words, so "I want my
camera to work" is not a complaint and "not working" (a device symptom) is not frustration.

>>> asks_for_human("this is not helping, can you pass me on"), is_frustrated("this is not helping")
(True, True)
>>> is_complaint("I want to make a complaint"), is_noise("hmm"), is_noise("asdfgh jkl")
(True, True, True)
>>> same_question("Where is my order??", "where is my order"), same_question("yes", "yes")
(True, False)
"""

from __future__ import annotations

import re

_HUMAN_REQUEST = re.compile(
    r"\b(?:human|real person|actual (?:person|human)|live (?:agent|person|chat)|"
    r"(?:speak|talk|chat) (?:to|with) (?:a |an )?(?:someone|somebody|agent|person|"
    r"representative|rep|member of (?:staff|your team)|manager|supervisor|human)|"
    r"customer service rep|operator|supervisor|"
    r"pass me (?:on|over|through|to)|put me (?:on|through)|transfer me|connect me (?:to|with)|"
    r"escalate|get me (?:a |an )?(?:person|agent|human|someone|somebody)|"
    r"(?:agent|representative|a person) please|"
    r"(?:like|want|need|prefer) (?:a |an )?(?:real |actual )?(?:person|agent|representative))\b"
    r"|^\W*(?:agent|representative|person)\W*$",
    re.I,
)

_COMPLAINT = re.compile(
    r"\b((make|file|lodge|raise|submit|register|log|open|have) (a |an )?(formal |official )?"
    r"complaint|(want|wish|like|need|going) to complain|formal complaint|"
    r"complaints? (department|team|procedure|process|form))\b",
    re.I,
)

# About the conversation itself: it is not helping.
_FRUSTRATION = re.compile(
    r"\b(?:not helping|isn'?t helping|is not helping|not (?:very |at all )?helpful|unhelpful|"
    r"(?:didn'?t|did not|won'?t|will not) help|(?:this|that) (?:is|was) no help|useless|"
    r"pointless|waste of (?:my )?time|(?:round|around) in circles|"
    r"(?:you'?re|you are|you aren'?t|you are not) (?:not )?(?:listening|understanding)|"
    r"(?:you )?(?:don'?t|do not) (?:understand|get it)|not what i (?:asked|meant|said)|"
    r"i (?:already|just) (?:said|told you|asked)|(?:already|just) told you|"
    r"stupid bot|you'?re a bot)\b",
    re.I,
)
# A mood: about the problem as much as the conversation, so it counts only after an unhelpful
# reply ("My camera is offline. This is really frustrating." opens many good conversations).
_ANNOYANCE = re.compile(
    r"\b(?:frustrat\w*|fed up|ridiculous|annoying|losing my patience|not happy|"
    r"(?:so |very |really )?disappointed|terrible|awful|seriously\?*|wtf|ffs|omg|ugh+)\b",
    re.I,
)

# Whole messages with nothing to answer: fillers and bare punctuation.
_FILLERS = frozenset(
    "hm hmm hmmm hmmmm huh eh er erm um umm uh uhh meh what wut wat wha pardon sorry "
    "what now idk dunno".split()
)
# Chat abbreviations without vowels that are words all the same ("thx", "thnks", "pls").
_ABBREVIATIONS = frozenset(
    "thx thnx thnks thnk thks thts tht pls plz txt msg msgs hrs mins brb ttyl ppl nvm smth sth "
    "btw wtf ffs hmm hm hmmm mrs mr dr st nd rd th".split()
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_VOWELS = set("aeiouyäöüéèàáíóú")
# Runs of neighbouring keys: keyboard mash ("asdf", "qwerty", "hjkl", "zxcv"). Five keys on the
# top row, where four make English words ("property", "liberty"), four on the others.
_KEY_RUNS = frozenset(
    [row[i : i + 5] for row in ("qwertyuiop",) for i in range(len(row) - 4)]
    + [row[i : i + 4] for row in ("asdfghjkl", "zxcvbnm") for i in range(len(row) - 3)]
)


def asks_for_human(text: str) -> bool:
    """The customer asks for a person ("talk to a human", "pass me on", "escalate")."""
    return bool(_HUMAN_REQUEST.search(text))


def is_complaint(text: str) -> bool:
    """The customer wants to make a complaint (not: complains about a device)."""
    return bool(_COMPLAINT.search(text))


def is_frustrated(text: str) -> bool:
    """The customer says the conversation is not helping ("you're not listening")."""
    return bool(_FRUSTRATION.search(text))


def is_annoyed(text: str) -> bool:
    """The customer is fed up ("this is ridiculous"): with the problem or with the bot."""
    return bool(_ANNOYANCE.search(text))


def _gibberish_word(word: str) -> bool:
    """A word no language writes: no vowel, a run of neighbouring keys, a short chunk repeated."""
    w = word.lower()
    if len(w) < 4 or w in _ABBREVIATIONS:
        return False
    if not any(ch in _VOWELS for ch in w):
        return True
    if any(w[i : i + n] in _KEY_RUNS for n in (4, 5) for i in range(len(w) - n + 1)):
        return True
    # "jkjkjk", "asdasdasd": a chunk of 1-3 letters three times or more
    return bool(re.fullmatch(r"(\w{1,3})\1{2,}\w{0,2}", w))


def is_noise(text: str) -> bool:
    """Nothing in the message to answer: no letters, only fillers, or only keyboard mash.

    >>> [is_noise(t) for t in ("??", "eh", "what?", "Hmm...", "sdfkjh", "ok", "NH-12345")]
    [True, True, True, True, True, False, False]
    """
    if any(ch.isdigit() for ch in text):
        return False  # an order number, a date: something to go on
    words = _WORD.findall(text)
    if not words:
        return True
    lowered = [w.lower() for w in words]
    if " ".join(lowered) in _FILLERS or all(w in _FILLERS for w in lowered):
        return True
    # Mash only when no word of three letters or more reads as a word ("thnk you" is thanks).
    words3 = [w for w in lowered if len(w) >= 3]
    return any(len(w) >= 4 for w in words3) and all(
        _gibberish_word(w)
        or (len(w) == 3 and not any(ch in _VOWELS for ch in w) and w not in _ABBREVIATIONS)
        for w in words3
    )


def _normal(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def same_question(text: str, earlier: str) -> bool:
    """`text` says what `earlier` said (case, punctuation and word order aside).

    Short acknowledgements ("yes", "ok thanks") are not questions: repeating them is no sign
    the reply did not help, so messages under two words or eight letters never count.
    """
    a, b = _normal(text), _normal(earlier)
    if len(a) < 2 or sum(map(len, a)) < 8 or not b:
        return False
    if a == b:
        return True
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) >= 0.8


def customer_signal(text: str, previous: str | None, streak: int) -> str | None:
    """Why a customer message shows the conversation is not helping, or None.

    `previous` is the customer's message before it (None for the first), `streak` the number
    of unhelpful turns in a row before it. The engine asks this of the message it answers and
    `assistant.log.state` of the stored turns, so both count the same turns.

    >>> customer_signal("where is my order", "Where is my order?", 1)
    'the same question again'
    >>> [customer_signal("this is ridiculous", None, streak) for streak in (0, 1)]
    [None, 'frustration']
    """
    if is_frustrated(text) or (streak > 0 and is_annoyed(text)):
        return "frustration"
    if previous is not None and same_question(text, previous):
        return "the same question again"
    return None


__all__ = [
    "asks_for_human",
    "customer_signal",
    "is_annoyed",
    "is_complaint",
    "is_frustrated",
    "is_noise",
    "same_question",
]
