"""Curating the reply bank: chat-ready wording and what each reply may be used for.

Every reply mined from the company's history (`training.bank`) is normalised for the chat
channel (`for_chat`) and sorted into one of three kinds (`classify`):

    safe         general information or a question back to the customer: the bot may send it
    needs_slots  sendable only when this conversation supplies its slots ({order_number},
                 {email}...) or, for a reply that repeats what its customer said ("a table
                 for 2 at 11:30 am?"), only when this customer said the same
    agent_only   claims an action the bot cannot have done ("I've updated / refunded / sent /
                 checked your order", "Done —", "your booking has been made", "a teammate
                 will join shortly") or states a back-office fact (an address, amount,
                 date or time, e-mail, order or confirmation number, or a name, that its
                 customer did not write and that is not one of the company's constants, or an
                 attribute of a listing: "It's a Pop song.", "No, they don't.");
                 kept as a suggestion for human agents, never sent by the bot

The rules are patterns, listed below with the reason each one gives (`Curation.reasons`), so
a reviewer sees why an entry was sorted where it was. A company constant is a specific that
recurs in the replies of many conversations ("30-day", "7am-10pm", "Nimbus Plus"): the
company's own facts rather than one customer's (`constants`). At send time the engine still
checks every specific against this conversation and the KB (`assistant.grounding`).

    >>> classify("Happy to help! Could you share your order number?").kind
    'safe'
    >>> classify("Thanks, {name}. Is {order_number} the order you mean?").kind
    'needs_slots'
    >>> c = classify("Done — I've updated the shipping address on order {order_number}.")
    >>> c.kind, c.reasons[0]
    ('agent_only', 'claims an action: "Done —"')
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from assistant.grounding import Grounds, specifics
from assistant.placeholders import OPTIONAL_SLOTS, slot_names

KINDS = ("safe", "needs_slots", "agent_only")

# -- chat normalisation ---------------------------------------------------------------------

# A letter's salutation on its own line: "Hi Lina,", "Hello,", "Dear customer,", "Hi {name},".
_SALUTATION = re.compile(
    r"\A\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings)\b[^\n.!?]{0,40}"
    r"[,!:]?[ \t]*\n\s*",
    re.I,
)
# A letter's closing line, then optional signature lines, at the end of a reply.
_SIGNOFF_WORDS = (
    r"(?:best regards|kind regards|warm regards|warmest regards|regards|best wishes|best|"
    r"all the best|cheers|thanks(?: again)?|thank you|many thanks|sincerely|yours(?: truly| "
    r"sincerely)?|talk soon|take care)"
)
_SIGNOFF = re.compile(
    rf"\n\s*{_SIGNOFF_WORDS}[ \t]*[,!.]?[ \t]*(?:\n[^\n]{{1,60}}){{0,2}}\s*\Z", re.I
)
# A signature block with no closing words: "-- \nSam" or "— The Nimbus Home team".
_SIGNATURE = re.compile(r"\n\s*(?:--|—|–)\s*[^\n]{1,60}\s*\Z")


def for_chat(text: str) -> str:
    """`text` as a chat message: a letter's salutation line, closing and signature removed,
    paragraphs kept, runs of spaces collapsed.

    >>> for_chat("Hi Lina,\\n\\nYour refund is on its way.\\n\\nBest regards,\\nNimbus Support")
    'Your refund is on its way.'
    >>> for_chat("Hello! Happy to help. What's going on?")
    "Hello! Happy to help. What's going on?"
    """
    out = text.strip()
    out = _SALUTATION.sub("", out, count=1)
    out = _SIGNOFF.sub("", out)
    out = _SIGNATURE.sub("", out)
    out = re.sub(r"[ \t]+", " ", out)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return out.strip()


def chat_unfit(text: str) -> str | None:
    """Why `text` does not read as a chat message (a letter's salutation or closing, an
    unfilled placeholder, a fallback for a missing value), or None.

    >>> chat_unfit("Hi,\\n\\nDone.\\n\\nBest,\\nNimbus Home Support")
    'salutation line'
    >>> chat_unfit("I've handed this over (ticket your ticket).")
    'fallback for a missing value: "ticket your ticket"'
    """
    if _SALUTATION.match(text):
        return "salutation line"
    if _SIGNOFF.search(text) or _SIGNATURE.search(text):
        return "sign-off"
    m = re.search(r"\{[a-z_]+\}", text)
    if m:
        return f"unfilled placeholder {m.group(0)}"
    m = re.search(
        r"\b(?:ticket your ticket|order your order|the date shown in your confirmation email"
        r".*the date shown in your confirmation email)",
        text,
        re.I | re.S,
    )
    if m:
        return f'fallback for a missing value: "{m.group(0)}"'
    return None


# -- action claims ------------------------------------------------------------------------------

_DONE = (
    r"updated|changed|cancel+ed|refunded|issued|sent|e-?mailed|resent|re-sent|triggered|"
    r"reset|processed|submitted|opened|created|raised|logged|filed|escalated|forwarded|"
    r"passed|handed|transferred|booked|reserved|scheduled|rescheduled|arranged|added|removed|"
    r"applied|credited|charged|waived|extended|upgraded|downgraded|activated|deactivated|"
    r"enabled|disabled|unlocked|verified|confirmed|checked|looked|pulled|found|located|placed|"
    r"ordered|shipped|replaced|approved|noted|flagged|marked|set|signed|registered|renewed|"
    r"paused|resumed|moved|merged|deleted|closed|reopened|made|purchased|bought|paid|"
    r"requested|contacted|called|notified|managed|gotten|got|secured|completed|finished|"
    r"corrected|fixed|restored|released|refreshed|generated|attached|switched|assigned|"
    r"started|initiated|kicked off|lodged|reshipped|redelivered|arranged for"
)
_DO = (
    r"update|change|cancel|refund|issue|send|e-?mail|resend|trigger|reset|process|submit|"
    r"open|create|raise|log|file|escalate|forward|pass|hand|transfer|book|reserve|schedule|"
    r"reschedule|arrange|add|remove|apply|credit|charge|waive|extend|upgrade|downgrade|"
    r"activate|deactivate|enable|disable|unlock|verify|confirm|check|look|pull|ship|replace|"
    r"approve|note|flag|mark|register|renew|pause|resume|move|delete|close|reopen|make|"
    r"purchase|buy|pay|request|contact|call|notify|get|secure|complete|correct|fix|restore|"
    r"release|generate|attach|switch|assign|investigate|review|start|initiate|reship|redeliver|"
    r"deliver|follow up|get back|reach out|"
    r"updating|changing|cancel+ing|refunding|issuing|sending|processing|checking|looking|"
    r"pulling|escalating|forwarding|passing|transferring|booking|reserving|arranging|"
    r"adding|removing|applying|crediting|placing|opening|creating|investigating|reviewing"
)
_THING_DONE = (
    r"updated|changed|cancel+ed|refunded|issued|sent|e-?mailed|processed|submitted|opened|"
    r"created|escalated|forwarded|transferred|booked|reserved|scheduled|rescheduled|"
    r"arranged|added|removed|applied|credited|charged|waived|extended|upgraded|downgraded|"
    r"activated|deactivated|unlocked|verified|confirmed|placed|shipped|dispatched|delivered|"
    r"replaced|approved|completed|made|purchased|paid|reset|renewed|paused|resumed|deleted|"
    r"closed|reopened|received|returned|declined|authori[sz]ed|released|assigned|set up|"
    r"bought|sold|"
    r"marked (?:as )?delivered|successful(?:ly)?(?: \w+)?"
)
# (pattern, what it claims); all are tried, every match is reported. Compiled on first use
# (`action_patterns`): ~0.15 s of the interpreter's time that the chat's start-up does not
# need, since a trained bank carries its kinds.
_ACTION_RULES: tuple[tuple[str, str], ...] = (
    (
        r"^\W*(?:done|all done|all set|all sorted|sorted|you're all set|you are all set|"
        r"that's done)\b"
        r"\s*(?:[-—–!.,:]+\s*)?",
        "claims an action",
    ),
    (
        rf"\b(?:I|we)(?:'ve| have| had)?(?: just| already| now| also| successfully| "
        rf"gone ahead and)* (?:{_DONE})\b(?! (?:to|if|whether|out for)\b)",
        "claims an action",
    ),
    (
        rf"\b(?:I|we) (?:wasn't|was not|weren't|were not|couldn't|could not|was unable|"
        rf"were unable|am unable|'m unable|are unable|'re unable)(?: able)?(?: to)? "
        rf"(?:{_DO})\b",
        "claims an attempted action",
    ),
    (
        rf"\b(?:I|we)(?:'ll| will|'m going to| am going to| are going to|'re going to| can "
        rf"now| shall)(?: go ahead and| now| also| just| quickly)? (?:{_DO})\b",
        "promises an action",
    ),
    (rf"\blet me (?:just |quickly )?(?:{_DO})\b", "promises an action"),
    (rf"\b(?:I'm|I am|we're|we are) (?:now |just |currently )?(?:{_DO})\b", "claims an action"),
    (
        rf"\b(?:has|have|had|'s|'ve)(?: now| just| already| also| successfully)* been "
        rf"(?:{_THING_DONE})\b",
        "states a completed action",
    ),
    (
        r"\b(?:has|have|had)(?: now| just| already| also)* (?:shipped|arrived|gone out|"
        r"left our warehouse|started|begun|finished|ended)\b",
        "states a completed action",
    ),
    (
        r"\b(?:is|are) (?:now |already )?(?:playing|running|streaming|showing)\b",
        "states an order's or booking's status",
    ),
    (
        # an attribute of a listing (a place, event, ride, booking) looked up elsewhere:
        # "It's a Pop song.", "No, they don't.", "The museum is kid friendly.", at the
        # start of any sentence, after any run of openers ("No, unfortunately, ...")
        r"(?:^|(?<=[.!?])\s+)(?:(?:yes|no|sure|unfortunately|fortunately|sadly|okay|ok|"
        r"great|sorry|i'm sorry|i am sorry|apologies|well|actually|alright|good news|"
        r"bad news|but|and|so|also)[,!.:]?\s+)*"
        r"(?:it(?:'s| is| isn't| is not)(?: not)? (?:a|an|not|rated|located|situated|open|"
        r"closed|free|furnished|pet|kid|child|family|wheelchair|accessible|under|refundable|"
        r"non-refundable|available|unavailable|sold|fully|\d)\b|"
        r"it (?:has|does|doesn't|does not|was|will|costs|starts|offers|serves|allows)\b"
        r"(?! with\b| immediately\b| right away\b)|"
        r"they(?:'re| are| have| do| don't| do not| does| serve| offer| allow| accept)|"
        r"their |there(?:'s| is| are|'re| was| will be| isn't| aren't| is not| are not) "
        r"(?:a|an|no(?! need)|not|any|\d)|(?:(?:the|this|that) )?(?:\w+ )?(?:restaurant|museum|"
        r"salon|hotel|apartment|house|property|event|movie|song|attraction|flight|bus|train|car|"
        r"ride|doctor|dentist|stylist|show|venue|place|park|room|cab|trip|concert|game|"
        r"match|film|album|artist|appointment)s? (?:is|are|has|have|does|doesn't|does not|"
        r"don't|do not|offers|serves|costs|starts|will|was|allows))",
        "states a fact about a listing",
    ),
    (
        # what a listed place serves or allows, its price range; a bare "Sorry, no live
        # music." after an opener
        r"\b(?:do|does)(?: not|n't)? (?:serve|allow|accept|offer|have live)\b|"
        r"\bthey (?:serve|allow|accept|offer)\b|\bprice range (?:is|was)\b|"
        r"(?:^|(?<=[.!?])\s+)(?:sorry|unfortunately|sadly|no|nope)[,!.]?\s+no "
        r"(?!problem|worries|need|rush|trouble)\w+",
        "states a fact about a listing",
    ),
    (
        # a short "It is pop music." answers a lookup (not "It is on your account page.")
        r"(?:^|(?<=[.!?])\s+)(?:(?:yes|no|sure|okay|ok)[,!.]?\s+)?it(?:'s| is) (?![^.!?\n]*"
        r"\byou)(?:[\w-]+ ){0,2}[\w-]+[.!]?\s*$|\b(?:entry|admission|parking|wi-?fi|"
        r"breakfast|delivery) is (?:not )?(?:free|included)\b",
        "states a fact about a listing",
    ),
    (
        r"^\W*(?:now |started |starts )?play(?:ing|s)\b|\b(?:is|are|was|were|has been|have "
        r"been) successfully\b",
        "states an order's or booking's status",
    ),
    (
        r"\bthe prices? (?:is|are|was|were)\b|\bis an? (?:\w+ )?(?:landmark|attraction|"
        r"museum|park|restaurant|hotel|venue|theater|theatre|gallery|zoo|garden)\b",
        "states a fact about a listing",
    ),
    (
        # a bare name or title, no verb, no number, no question: "O'hare international
        # airport", "Pop." answer a lookup (sign-offs and thanks have their own words)
        r"\A(?![^?]*\?)(?![\s\S]*\d)(?![\s\S]*\b(?:i|i'm|i'd|i'll|you|you're|we|we're|we'll|us|"
        r"it|it's|this|that|is|are|was|were|be|been|have|has|had|do|does|did|can|could|"
        r"will|would|should|shall|may|might|must|please|thanks|thank|welcome|bye|goodbye|"
        r"hello|hi|hey|day|night|evening|morning|enjoy|ok|okay|sure|great|good|nice|"
        r"alright|yes|no|sorry|cheers|pleasure|anytime|care|luck|fun|let|need|want|"
        r"like|help|see|go|get|take|try|tell|check|click|tap|open|select|visit|call|"
        r"contact|send|reply|wait|note|which|what|where|when|who|why|or)\b)"
        r"\W*[\w'’:&.,-]+(?:\s+[\w'’:&.,-]+){0,7}\W*\Z",
        "answers a lookup",
    ),
    (
        r"\b(?:pets|dogs|cats|alcohol|liquor|smoking|children|kids|outside food) "
        r"(?:are|is)(?: not)? (?:allowed|permitted|served|welcome)\b",
        "states a fact about a listing",
    ),
    (
        rf"\b(?:I|we) (?:was|were) (?:able|unable) to (?:{_DO})\b|"
        r"\b(?:I|we)(?:'ve| have)? managed to\b",
        "claims an action",
    ),
    (
        r"\b(?:starting|started|beginning|about) to play\b|\b(?:is|are|'s|'re) all "
        r"(?:booked|reserved|done|sorted|paid)\b|\b(?:is|are|was|were) (?:now )?"
        r"(?:successful|secured|complete|completed|done(?! by))\b",
        "states an order's or booking's status",
    ),
    (
        rf"\b(?:was|were)(?: just| already| also| only| successfully)? (?:{_THING_DONE})\b",
        "states a completed action",
    ),
    (rf"\b(?:already|just) (?:{_THING_DONE})\b", "states a completed action"),
    (
        r"\b(?:is|are|'s|'re)(?: now| already)? (?:on (?:its|their) way|in transit|being "
        r"(?:processed|prepared|shipped|reviewed)|packed|out for delivery|confirmed|booked|"
        r"reserved|scheduled|cancel+ed|all set|in your inbox|in your email)\b|\b(?:is|are) now "
        r"(?:off|on|active|inactive|live|enabled|disabled|set|updated|changed|fixed|"
        r"resolved|playing|running|showing|streaming)\b",
        "states an order's or booking's status",
    ),
    (
        r"\b(?:went|goes|has gone) (?:out|through)\b|\bwas (?:a )?success(?:ful)?\b",
        "states an order's or booking's status",
    ),
    (
        r"\bI (?:can |could )?see (?:that |your |order |the |a |an |it |there )|"
        r"\b(?:our|my) (?:records|system|systems|notes) (?:show|say|indicate)|"
        r"\b(?:it|the carrier|tracking|the system|your account) shows\b|"
        r"\baccording to (?:our|my|the) (?:records|system|carrier|tracking)",
        "reports a lookup",
    ),
    (
        r"\b(?:a teammate|someone|somebody|a member of (?:our|the)|(?:a|the) specialist|"
        r"an agent|a colleague|our \w+ team|the team|a person)\b[^.!?]{0,30}\b"
        r"(?:will|is going to|'ll|is|are) (?:join|be with|reply|respond|follow up|take over|"
        r"pick (?:it|this) up|contact|call|get back|be in touch|joining|reach out)",
        "claims a hand-off",
    ),
    (
        r"\b(?:passed|handed|forwarded|transferred) (?:this|it|you|your \w+)(?: \w+)? "
        r"(?:over |on )?to\b",
        "claims a hand-off",
    ),
)


@functools.cache
def action_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    """(compiled pattern, what it claims) of every action rule, compiled once."""
    return tuple((re.compile(p, re.I | re.M), why) for p, why in _ACTION_RULES)


# A promise inside a condition is the company's policy, not a claim ("Once we receive the
# item, we'll refund you"): the clause before it starts with one of these.
_CONDITION = re.compile(r"\b(?:if|once|when|whenever|after|as soon as|until)\b[^.!?\n]*$", re.I)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "–": "-"})


def action_claims(text: str) -> list[str]:
    """Reasons, one per claimed action found in `text` ([] when it claims none).

    >>> action_claims("Good news: we have refunded the order.")
    ['claims an action: "we have refunded"']
    >>> action_claims("Let me know if that helps! Once we receive it, we'll refund you.")
    []
    """
    out, seen = [], set()
    for _, _, reason, rule in _claim_matches(text):
        if rule not in seen:  # the first match of each rule
            seen.add(rule)
            out.append(reason)
    return out


def action_claim_spans(text: str) -> list[tuple[int, int, str]]:
    """Every claimed action in `text` as (start, end, reason), in the order of the rules.

    >>> action_claim_spans("Done. We have refunded it.")[1]
    (6, 22, 'claims an action: "We have refunded"')
    """
    return [(start, end, reason) for start, end, reason, _ in _claim_matches(text)]


def _claim_matches(text: str) -> list[tuple[int, int, str, int]]:
    """(start, end, reason, rule index) of every match of the action rules that counts."""
    text = text.translate(_QUOTES)  # one character for one: the positions hold
    out = []
    for n, (pattern, why) in enumerate(action_patterns()):
        for m in pattern.finditer(text):
            if why == "promises an action" and _CONDITION.search(text[: m.start()]):
                continue
            out.append((m.start(), m.end(), f'{why}: "{m.group(0).strip()}"', n))
    return out


# -- classification -----------------------------------------------------------------------------


@dataclass
class Curation:
    """What a reply may be used for, and why."""

    kind: str  # one of KINDS
    reasons: list[str] = field(default_factory=list)  # the rules that decided it, for review


def classify(
    text: str,
    constants: Iterable[tuple[str, ...]] = (),
    echoed: Iterable[tuple[str, ...]] = (),
    common: Collection[str] | None = None,
) -> Curation:
    """Sort one bank reply (a template, already `for_chat`) into a kind (see module doc).

    `constants`: keys of specifics that are the company's own (`constants`); `echoed`: keys
    of specifics that this reply's customers had written before it (a reply repeating them
    is needs_slots: sendable only where this customer said the same); `common`: words known
    in lower case (see `grounding.specifics`).

    >>> classify("Refunds take 5-10 business days.", constants=[("510",)]).kind
    'safe'
    >>> classify("Refunds take 5-10 business days.").reasons
    ['states a specific: "5-10" (number)']
    >>> classify("A table for 2 at 11:30 am?", echoed=[("2",), ("1130",)]).kind
    'needs_slots'
    """
    reasons = action_claims(text)
    const, echo = set(constants), set(echoed)
    repeats = []
    for s in specifics(_unslotted(text), common):
        if s.keys in const:
            continue
        if s.keys in echo:
            repeats.append(f'repeats the customer\'s "{s.surface}"')
        else:
            reasons.append(f'states a specific: "{s.surface}" ({s.kind})')
    slots = slot_names(text)
    if "date" in slots:
        reasons.append("states a date ({date})")
    if reasons:
        return Curation("agent_only", reasons)
    needs = [f"needs {{{k}}}" for k in slots if k not in OPTIONAL_SLOTS]
    if needs or repeats:
        return Curation("needs_slots", needs + repeats)
    return Curation("safe", [])


def constants(
    uses: Iterable[tuple[str, int]],
    min_conversations: int,
    common: Collection[str] | None = None,
) -> set[tuple[str, ...]]:
    """Keys of the specifics that recur across conversations: `uses` gives each reply text
    with the number of conversations it was used in; a specific counts as a company constant
    when the replies that state it were used in `min_conversations` conversations or more.

    >>> sorted(constants([("Returns: 30 days.", 40), ("Call 555-0100 now", 1)], 10))
    [('30',)]
    """
    df: Counter[tuple[str, ...]] = Counter()
    for text, n in uses:
        for keys in {s.keys for s in specifics(_unslotted(text), common)}:
            df[keys] += n
    return {k for k, n in df.items() if n >= min_conversations}


def echoed_specifics(
    reply: str, grounds: Grounds, common: Collection[str] | None = None
) -> set[tuple[str, ...]]:
    """Keys of the specifics of `reply` that `grounds` (what its customer had written) hold."""
    return {s.keys for s in specifics(_unslotted(reply), common) if grounds.holds(s)}


def _unslotted(text: str) -> str:
    """`text` with its placeholders blanked out (they are not specifics of the template)."""
    return re.sub(r"\{[a-z_]+\}", " ", text)


__all__ = [
    "action_patterns",
    "KINDS",
    "Curation",
    "action_claim_spans",
    "action_claims",
    "chat_unfit",
    "classify",
    "constants",
    "echoed_specifics",
    "for_chat",
]
