"""Placeholders: turn concrete agent replies into reusable ones, and fill them back in.

    "Thanks, Priya! Order NH-48213 ships."  ->  "Thanks, {name}! Order {order_number} ships."

`templatize` runs at training time over the agent turns of the history; `extract_slots` reads
what the customer told us so far; `fill` puts it back, with a graceful wording when a slot is
unknown ("Thanks!" rather than "Thanks, {name}!"). E-mail addresses and phone numbers are found
by the detectors redaction uses (`assistant.pii`), international formats included.
"""

from __future__ import annotations

import re

from assistant.pii import find_emails, find_phones, replace_spans

_ORDER = re.compile(r"\b(?:NH|ORD|SO)-?\d{4,8}\b", re.I)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(
    rf"\b(?:(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),\s+)?(?:{_MONTHS})\s+\d{{1,2}}"
    rf"(?:st|nd|rd|th)?(?:,\s+\d{{4}})?\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
)
_TICKET = re.compile(r"\bT-\d{4,8}\b")
# A capitalised name right after a greeting or thanks: "Hi Maria,", "Thanks, Tom!".
_NAME = re.compile(
    r"\b(Hi|Hello|Hey|Dear|Thanks|Thank you|Thanks so much|Sure|Of course|Great|Perfect|Got it|"
    r"No problem|Sorry|Welcome back|Okay|Ok)(,?)\s+([A-Z][a-z]{1,15})(?=[,.!?:])"
)
# A capitalised word addressed at the end of a clause: "Could you confirm that, Maria?"
_NAME_VOCATIVE = re.compile(r",\s+([A-Z][a-z]{1,15})(?=[!?.])")
_NOT_NAMES = {
    "Nimbus",
    "Plus",
    "Pro",
    "Cam",
    "Hub",
    "Thermostat",
    "Doorbell",
    "Monday",
    "Friday",
    "There",
    "Again",
    "Everyone",
    "All",
    "Team",
    "Today",
    "Tomorrow",
    "Yesterday",
    "Saturday",
    "Sunday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Alexa",
    "Google",
    "Android",
    "Please",
    "Thanks",
    "Yes",
    "No",
}

# Customer-side cues for slots.
_CUSTOMER_NAME = re.compile(r"\b(?i:my name is|i am|i'm|this is)\s+([A-Za-z][a-z]{1,15})\b")
_NAME_STOP = {
    "not",
    "having",
    "trying",
    "looking",
    "getting",
    "still",
    "so",
    "very",
    "just",
    "really",
    "a",
    "the",
    "on",
    "in",
    "at",
    "good",
    "fine",
    "here",
    "back",
    "sorry",
    "unable",
    "calling",
}

PLACEHOLDERS = ("{name}", "{order_number}", "{ticket_number}", "{email}", "{phone}", "{date}")


def templatize(text: str) -> str:
    """Replace names, order and ticket numbers, emails and phone numbers by placeholders.

    >>> templatize("Thanks, Priya! I found order NH-48213 for priya@example.com.")
    'Thanks, {name}! I found order {order_number} for {email}.'
    """
    text = replace_spans(text, find_emails(text), "{email}")
    text = _TICKET.sub("{ticket_number}", text)
    text = _ORDER.sub("{order_number}", text)
    text = replace_spans(text, find_phones(text), "{phone}")
    text = _DATE.sub("{date}", text)

    def name(m: re.Match) -> str:
        if m.group(3) in _NOT_NAMES:
            return m.group(0)
        return f"{m.group(1)}{m.group(2)} {{name}}"

    text = _NAME.sub(name, text)
    return _NAME_VOCATIVE.sub(
        lambda m: m.group(0) if m.group(1) in _NOT_NAMES else ", {name}", text
    )


def extract_slots(customer_texts: list[str]) -> dict[str, str]:
    """Slot values the customer has given, latest mention winning.

    >>> extract_slots(["hi, I'm Sam", "order NH-10001 please", "email sam@example.org"])
    {'name': 'Sam', 'order_number': 'NH-10001', 'email': 'sam@example.org'}
    """
    slots: dict[str, str] = {}
    for t in customer_texts:
        m = _CUSTOMER_NAME.search(t)
        if m and m.group(1).lower() not in _NAME_STOP:
            slots["name"] = m.group(1).capitalize()
        for key, found in (
            ("order_number", _ORDER.findall(t)),
            ("ticket_number", _TICKET.findall(t)),
            # An address has no spaces: "jo @ example.com" is filled in as "jo@example.com".
            ("email", [t[start:end].replace(" ", "") for start, end in find_emails(t)]),
            ("phone", [t[start:end] for start, end in find_phones(t)]),
        ):
            if found:
                slots[key] = found[-1].upper() if key == "order_number" else found[-1]
    return slots


_FALLBACK = {
    "order_number": "your order",
    "ticket_number": "your ticket",
    "email": "the email address on your account",
    "phone": "the phone number on your account",
    "date": "the date shown in your confirmation email",
}


def fill(template: str, slots: dict[str, str]) -> str:
    """Fill placeholders from `slots`; unknown ones get a neutral wording.

    >>> fill("Thanks, {name}! Checking {order_number}.", {})
    'Thanks! Checking your order.'
    """
    out = template
    if "{name}" in out:
        if "name" in slots:
            out = out.replace("{name}", slots["name"])
        else:
            out = re.sub(r",?\s*\{name\}", "", out)
    if "order_number" not in slots:
        # "your order {order_number}" / "order {order_number}" read as "your order".
        out = re.sub(
            r"\b(?:your )?order \{order_number\}",
            lambda m: "Your order" if m.group(0)[0].isupper() else "your order",
            out,
            flags=re.I,
        )
    for key, default in _FALLBACK.items():
        out = out.replace("{" + key + "}", slots.get(key, default))
    return out
