"""The text of a knowledge-base answer: which passage to quote, and how it reads in a chat.

The search ranks passages for retrieval; the passage that ranks first is not always the one
to quote. An article's introduction often ranks first because it names every topic of the
article ("This article explains the window, the steps and what to do if ..."), while the
steps sit in a section of their own. `choose_passage` therefore looks at the passages of the
best article that score nearly as well as the best one, and prefers

- a passage whose table has the row the question names (an error code, a plan name),
- a passage whose section heading shares words with the question (the matching section),
- a passage with content over a signpost introduction (one that only says what the article
  covers), and a passage with numbered steps when the question asks how to do something.

A passage that asks rather than answers (a forum thread's opening post, which ends with its
question) is quoted only when no other passage of its article was found: it would echo the
customer's question back.

`chat_text` makes a passage readable in a narrow chat: signpost sentences go, and Markdown
tables, which collapse into one-word columns at chat width, become one line per row
("- **E1** — Meaning: No power. What to do: Check the breaker"). `kb_answer` puts it
together: the reply text of a KB answer.

>>> from kb.passage import Passage
>>> intro = Passage("a", "Returns", "", "a.md", 0.62,
...                 "Returns are free. This article explains how to start one.")
>>> steps = Passage("a", "Returns", "Start a return", "a.md", 0.60,
...                 "1. Open Orders.\\n2. Tap Return.")
>>> choose_passage([intro, steps], "how do I start a return?").section
'Start a return'
"""

from __future__ import annotations

import re

from kb.bm25 import tokenize
from kb.passage import Passage

ANSWER_PREFIX = "Here is what our help centre says"
# A passage of the best article is a candidate when it scores at least this close to the
# best passage (scores are cosine + keyword weight x normalised BM25, so about 0 to 1.3).
SCORE_MARGIN = 0.08
SECTION_BONUS = 0.03  # per question word found in the section heading (up to 2 words)
SIGNPOST_PENALTY = 0.05  # an introduction that only announces what the article covers
STEPS_BONUS = 0.02  # numbered steps, when the question asks how to do something
# a table row named by the question (its first cell) is the answer itself: it beats any rival
# within the margin, section bonuses included
ROW_BONUS = SCORE_MARGIN + 2 * SECTION_BONUS

_SIGNPOST = re.compile(
    r"\b(?:this|the following) (?:article|page|guide|section|list|document)\b"
    r"|\buse this (?:list|article|page|guide)\b|\bin this (?:article|guide)\b",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_STEP = re.compile(r"^\s*\d{1,3}[.)]\s+", re.MULTILINE)
# a section that prepares for a task ("Before a factory reset", "What you need"): it answers
# "what do I do before ...", not "how do I ...", so its heading words are not the question's
_PREPARATION = re.compile(
    r"^\s*(?:before\b|prerequisites?\b|requirements?\b|what you(?:'ll| will)? need\b|"
    r"preparation\b|preparing\b|prepare\b)",
    re.IGNORECASE,
)
_BEFORE = re.compile(r"\b(?:before|prepare|preparing|need|needed|require[sd]?)\b", re.IGNORECASE)
_HOW = re.compile(r"\b(?:how|where|steps?|set ?up|what do i do|can i)\b", re.IGNORECASE)
_TABLE_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_CODE_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")


def is_signpost(passage: Passage) -> bool:
    """True for an article's introduction whose sentences are mostly about the article
    itself ("This article explains ...") rather than the topic.

    >>> is_signpost(Passage("a", "T", "", "a.md", 0.5, "This page lists our fees."))
    True
    """
    if passage.section and passage.section != passage.title:
        return False
    sentences = [s for s in _SENTENCE.split(passage.text.strip()) if s]
    signposts = sum(bool(_SIGNPOST.search(s)) for s in sentences)
    return signposts > 0 and signposts * 2 >= len(sentences)


def asks(passage: Passage) -> bool:
    """True for a passage that asks rather than answers, like a forum thread's opening post:
    it ends with a question and has no table or steps. (No passage of the demo, helpdesk or
    airline knowledge bases does; 7 of the e-bike forum's 11 opening posts do.)

    >>> asks(Passage("a", "T", "Post", "a.html", 0.5,
    ...              "I'd love to fly with my bike. Is it possible? What do people do?"))
    True
    >>> asks(Passage("a", "T", "", "a.md", 0.5, "Can I return a gift? Yes, within 30 days."))
    False
    """
    text = passage.text.strip()
    return text.endswith("?") and "|" not in text and len(_STEP.findall(text)) < 2


def names_a_row(passage: Passage, question: str) -> bool:
    """True when a table of `passage` has a row whose first cell the question names whole
    (an error code, a plan name: the rows `table_lines` keeps first).

    >>> p = Passage("a", "Codes", "", "a.md", 0.5, "| Code | Meaning |\\n|---|---|\\n| E3 | Hot |")
    >>> names_a_row(p, "display says e3"), names_a_row(p, "what does code mean")
    (True, False)
    """
    lines = [line for line in passage.text.split("\n") if line.lstrip().startswith("|")]
    if not lines:
        return False
    asked = {w.lower() for w in _CODE_WORD.findall(question)}
    rows = [_cells(line) for line in lines if not _TABLE_SEPARATOR.match(line.strip())]
    if len(lines) >= 2 and _TABLE_SEPARATOR.match(lines[1].strip()):
        rows = rows[1:]  # the header row names columns, not rows
    return any(row and row[0].strip("*` ").lower() in asked for row in rows)


def choose_passage(passages: list[Passage], question: str = "") -> Passage:
    """The passage to quote for `question`, from search results (best first).

    Only passages of the best passage's article within `SCORE_MARGIN` of its score compete,
    so the answer never switches article and never quotes a passage that ranks far below.
    When the best passage only asks (`asks`), the best other passage of its article takes
    its place. Raises ValueError for an empty list.
    """
    if not passages:
        raise ValueError("no passages to choose from")
    best = passages[0]
    if asks(best):
        answers = [p for p in passages if p.article_id == best.article_id and not asks(p)]
        best = answers[0] if answers else best
    words = set(tokenize(question))
    asks_how = bool(_HOW.search(question))
    asks_before = bool(_BEFORE.search(question))

    def preference(passage: Passage) -> float:
        score = passage.score
        heading = set(tokenize(passage.section))
        if asks_how and not asks_before and _PREPARATION.search(passage.section or ""):
            score -= SIGNPOST_PENALTY  # a "Before a factory reset" section, asked how to reset
        else:
            score += SECTION_BONUS * min(2, len(words & heading))
        if is_signpost(passage):
            score -= SIGNPOST_PENALTY
        if asks_how and len(_STEP.findall(passage.text)) >= 2:
            score += STEPS_BONUS
        if names_a_row(passage, question):
            score += ROW_BONUS
        return score

    rivals = [
        p
        for p in passages
        if p.article_id == best.article_id
        and p.score >= best.score - SCORE_MARGIN
        and (p is best or not asks(p))
    ]
    return max(rivals, key=preference)  # max keeps the first (best ranked) of equals


def drop_signposts(text: str) -> str:
    """`text` without its sentences about the article itself, unless nothing would remain.

    >>> drop_signposts("Returns are free. This article explains how to start one.")
    'Returns are free.'
    """
    paragraphs = []
    for paragraph in text.split("\n"):
        if paragraph.lstrip().startswith("|"):
            paragraphs.append(paragraph)
            continue
        kept = [s for s in _SENTENCE.split(paragraph) if not _SIGNPOST.search(s)]
        if kept or not paragraph.strip():
            paragraphs.append(" ".join(kept))
    result = "\n".join(paragraphs).strip()
    return result if result else text.strip()


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [cell.strip() for cell in line.split("|")]


NAME_WORDS = 3  # a first cell of at most this many words names its row (a device, a colour)


def rows_named_by_a_word(rows: list[list[str]], question: str) -> list[list[str]]:
    """The rows whose first cell is a short name (`NAME_WORDS` words at most) with a word
    that the question has and that no other row's first cell has: "reset my thermostat"
    names the "Nimbus Thermostat T2" row of a table of devices, not the "Nimbus Cam" row
    ("Nimbus", in every row, names none). Empty when no row is named so, or when a longer
    first cell (a situation, a sentence) makes the table one of cases rather than names.

    >>> rows = [["Nimbus Thermostat T2", "Settings"], ["Nimbus Cam", "Hold 20 s"]]
    >>> rows_named_by_a_word(rows, "how do I reset my thermostat?")
    [['Nimbus Thermostat T2', 'Settings']]
    >>> rows_named_by_a_word(rows, "how do I reset my nimbus device?")
    []
    """
    if len(rows) < 2 or any(len(row[0].split()) > NAME_WORDS for row in rows if row):
        return []
    cells = [tokenize(row[0].strip("*` ")) if row else [] for row in rows]
    owners: dict[str, int] = {}
    for words in cells:
        for word in set(words):
            owners[word] = owners.get(word, 0) + 1
    asked = set(tokenize(question))
    return [
        row
        for row, words in zip(rows, cells, strict=True)
        if any(owners[word] == 1 and word in asked for word in words)
    ]


def table_lines(lines: list[str], question: str = "") -> list[str]:
    """A Markdown table as one bullet a row: the first cell in bold, then "header: value"
    for the other cells. When the question names some rows by their first cell (an error
    code, a plan name) or by a word only their first cell has (`rows_named_by_a_word`: a
    device of a table of devices), only those rows are shown.

    >>> table_lines(["| Code | Meaning |", "|---|---|", "| E1 | No power |", "| E2 | Low |"],
    ...             "what is error e2")
    ['- **E2** — Meaning: Low']
    """
    header: list[str] = []
    rows = [_cells(line) for line in lines]
    if len(lines) >= 2 and _TABLE_SEPARATOR.match(lines[1].strip()):
        header, rows = rows[0], rows[2:]
    rows = [row for row in rows if any(row)]
    asked = {w.lower() for w in _CODE_WORD.findall(question)}
    named = [row for row in rows if row and row[0].strip("*` ").lower() in asked]
    if not named:
        named = rows_named_by_a_word(rows, question)
    out = []
    for row in named or rows:
        first, rest = row[0], row[1:]
        pairs = []
        for i, value in enumerate(rest, start=1):
            if not value:
                continue
            name = header[i] if i < len(header) and header[i] else ""
            pairs.append(f"{name}: {value}" if name else value)
        label = f"**{first.strip('*')}**" if first else ""
        # ". " between cells: a cell may hold a ";" or "," of its own
        cells = ". ".join(pair.rstrip(".") for pair in pairs)
        out.append("- " + " — ".join(part for part in (label, cells) if part))
    return out


def chat_text(text: str, question: str = "") -> str:
    """A passage as the chat shows it: signpost sentences dropped, tables one row a line."""
    lines = drop_signposts(text).split("\n")
    out: list[str] = []
    table: list[str] = []
    for line in [*lines, ""]:
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        if table:
            out.extend(table_lines(table, question))
            table = []
        out.append(line)
    return "\n".join(out).strip()


def _shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a line end when one is late enough, else a word."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = head.rfind("\n")
    if cut < limit // 2:
        cut = head.rfind(" ")
    return head[: max(cut, 1)].rstrip() + " …"


def kb_answer(passages: list[Passage], question: str = "", limit: int = 900) -> tuple[str, Passage]:
    """The reply text of a KB answer for `question` and the passage it quotes.

    >>> p = Passage("a", "Fees", "Late fees", "a.md", 0.7, "A late fee is 5 EUR.")
    >>> kb_answer([p], "late fee?")[0]
    'Here is what our help centre says (**Fees › Late fees**):\\n\\nA late fee is 5 EUR.'
    """
    chosen = choose_passage(passages, question)
    body = _shorten(chat_text(chosen.text, question), limit)
    return f"{ANSWER_PREFIX} (**{chosen.heading}**):\n\n{body}", chosen


__all__ = [
    "ANSWER_PREFIX",
    "asks",
    "chat_text",
    "choose_passage",
    "drop_signposts",
    "is_signpost",
    "kb_answer",
    "names_a_row",
    "table_lines",
]
