"""Placeholders: turn concrete agent replies into reusable ones, and fill them back in.

    "Thanks, Priya! Order NH-48213 ships."  ->  "Thanks, {name}! Order {order_number} ships."

`templatize` runs at training time over the agent turns of the history; `extract_slots` reads
what the customer told us so far; `fill` puts it back, with a graceful wording when a slot is
unknown ("Thanks!" rather than "Thanks, {name}!"). E-mail addresses and phone numbers are found
by the detectors redaction uses (`assistant.pii`), international formats included.
"""

from __future__ import annotations

import re
from collections.abc import Collection

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
    "Visa",
    "Mastercard",
    "Amex",
    "Discover",
    "Maestro",
    "PayPal",
    "Apple",
    "Samsung",
    "Pixel",
    "Siri",
    "HomeKit",
    "Chrome",
    "Safari",
    "Firefox",
    "Windows",
    "Mac",
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


def templatize(text: str, keep: Collection[str] = ()) -> str:
    """Replace names, order and ticket numbers, emails and phone numbers by placeholders.

    `keep`: e-mail addresses, phone numbers, order and ticket numbers to leave as written:
    those the customer never gave (the company's own, or looked up in a back office: the bot
    must not fill such a reply with this customer's values, see `training.bank`).

    >>> templatize("Thanks, Priya! I found order NH-48213 for priya@example.com.")
    'Thanks, {name}! I found order {order_number} for {email}.'
    >>> templatize("Write to help@nimbus.example or jo@example.com", keep={"help@nimbus.example"})
    'Write to help@nimbus.example or {email}'
    """
    kept = set(keep)

    def sub(spans: list[tuple[int, int]], placeholder: str) -> str:
        return replace_spans(text, [s for s in spans if text[s[0] : s[1]] not in kept], placeholder)

    text = sub(find_emails(text), "{email}")
    text = sub([m.span() for m in _TICKET.finditer(text)], "{ticket_number}")
    text = sub([m.span() for m in _ORDER.finditer(text)], "{order_number}")
    text = sub(find_phones(text), "{phone}")
    text = _DATE.sub("{date}", text)

    def name(m: re.Match) -> str:
        if m.group(3) in _NOT_NAMES:
            return m.group(0)
        return f"{m.group(1)}{m.group(2)} {{name}}"

    text = _NAME.sub(name, text)
    return _NAME_VOCATIVE.sub(
        lambda m: m.group(0) if m.group(1) in _NOT_NAMES else ", {name}", text
    )


def contact_values(text: str) -> list[str]:
    """The e-mail addresses, phone numbers, order and ticket numbers written in `text`, as
    written (what `templatize` would turn into placeholders).

    >>> contact_values("Order NH-10001, ticket T-90412, jo@example.com")
    ['jo@example.com', 'T-90412', 'NH-10001']
    """
    return [
        *(text[a:b] for a, b in find_emails(text)),
        *_TICKET.findall(text),
        *_ORDER.findall(text),
        *(text[a:b] for a, b in find_phones(text)),
    ]


def same_value(a: str, b: str) -> bool:
    """Whether two written contact values are the same: case, spaces and, for numbers,
    punctuation aside ("NH-10001" / "nh10001", "555-010-4242" / "(555) 010 4242").

    >>> same_value("NH-10001", "nh10001"), same_value("jo@example.com", "Jo@Example.com")
    (True, True)
    """
    if "@" in a or "@" in b:
        return a.replace(" ", "").casefold() == b.replace(" ", "").casefold()
    x, y = (re.sub(r"[^0-9a-z]", "", v.casefold()) for v in (a, b))
    if x.isdigit() and y.isdigit() and min(len(x), len(y)) >= 7:
        return x.endswith(y) or y.endswith(x)  # "+1 (555) 010-4242" is "555-010-4242"
    return x == y


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


_SLOT = re.compile(r"\{(" + "|".join(p.strip("{}") for p in PLACEHOLDERS) + r")\}")
# Slots a reply can do without: a name said in passing ("Thanks, {name}!" reads "Thanks!").
OPTIONAL_SLOTS = frozenset({"name"})


def slot_names(template: str) -> list[str]:
    """The placeholders of `template`, in order, each once.

    >>> slot_names("Hi {name}, order {order_number} ({order_number}) ships {date}.")
    ['name', 'order_number', 'date']
    """
    return list(dict.fromkeys(_SLOT.findall(template)))


def missing_slots(template: str, slots: dict[str, str]) -> list[str]:
    """The slots `template` needs that `slots` has no value for (a name is never needed).

    >>> missing_slots("Ticket {ticket_number} is open, {name}.", {})
    ['ticket_number']
    """
    return [k for k in slot_names(template) if k not in OPTIONAL_SLOTS and not slots.get(k)]


_NAME_SLOT = re.compile(r",?[ \t]*\{name\}")
_LEADING = re.compile(r"^\s*[,:]\s*")


def _drop_name(text: str) -> str:
    """`text` without its `{name}`: "Thanks, {name}!" -> "Thanks!", "{name}, it" -> "It"."""
    out = _NAME_SLOT.sub("", text) if "{" in text else text
    out = _LEADING.sub("", out)
    return out[:1].upper() + out[1:] if out[:1].islower() and text.startswith("{name}") else out


def fill_strict(template: str, slots: dict[str, str]) -> str | None:
    """`template` with every slot filled from `slots`, or None when a slot it needs has no
    value: such a reply is not sent (it would say "your ticket" where no ticket exists). An
    unknown name is left out.

    >>> fill_strict("Thanks, {name}! Order {order_number} it is.", {"order_number": "NH-1234"})
    'Thanks! Order NH-1234 it is.'
    >>> fill_strict("Ticket {ticket_number} has everything.", {}) is None
    True
    """
    if "{" in template and missing_slots(template, slots):
        return None
    out = template if slots.get("name") else _drop_name(template)
    return _SLOT.sub(lambda m: slots[m.group(1)], out) if "{" in out else out


def own_numbers_only(text: str, known: Collection[str]) -> str:
    """`text` with each order and ticket number that is not one of `known` (the values this
    conversation holds) turned back into its placeholder. Such a number always belongs to one
    customer: in a reply mined from another conversation ("I've forwarded this as ticket
    T-20167") it would hand the agent someone else's ticket.

    >>> own_numbers_only("Forwarded as ticket T-20167 for order NH-10001.", ["NH-10001"])
    'Forwarded as ticket {ticket_number} for order NH-10001.'
    """

    def foreign(pattern: re.Pattern) -> list[tuple[int, int]]:
        return [
            m.span()
            for m in pattern.finditer(text)
            if not any(same_value(m.group(0), value) for value in known)
        ]

    text = replace_spans(text, foreign(_TICKET), "{ticket_number}")
    return replace_spans(text, foreign(_ORDER), "{order_number}")


def fill_for_agent(template: str, slots: dict[str, str]) -> str:
    """`template` filled where `slots` know a value, the others shown as "[order number]" for
    the person who edits and sends it (a suggestion for a human agent).

    >>> fill_for_agent("Hi {name}, ticket {ticket_number} is open.", {"name": "Ana"})
    'Hi Ana, ticket [ticket number] is open.'
    """
    out = template if slots.get("name") else _drop_name(template)
    return _SLOT.sub(lambda m: slots.get(m.group(1)) or f"[{m.group(1).replace('_', ' ')}]", out)


_FALLBACK = {
    "order_number": "your order",
    "ticket_number": "your ticket",
    "email": "the email address on your account",
    "phone": "the phone number on your account",
    "date": "the date shown in your confirmation email",
}
# A fallback said once already is not repeated word for word ("shipped on the date shown in
# your confirmation email ... arrives by the date shown in your confirmation email").
_FALLBACK_AGAIN = {"date": "the date shown there"}


def fill(template: str, slots: dict[str, str]) -> str:
    """Fill placeholders from `slots`; unknown ones get a neutral wording (for display and
    tests; the engine sends only replies `fill_strict` can fill).

    >>> fill("Thanks, {name}! Checking {order_number}.", {})
    'Thanks! Checking your order.'
    >>> fill("Ticket {ticket_number}: shipped {date}, due {date}.", {})
    'Your ticket: shipped the date shown in your confirmation email, due the date shown there.'
    """
    out = template if "name" in slots else _drop_name(template)
    if "name" in slots:
        out = out.replace("{name}", slots["name"])
    for key, noun in (("order_number", "order"), ("ticket_number", "ticket")):
        if key not in slots:
            # "your order {order_number}" / "ticket {ticket_number}" read as "your order".
            out = re.sub(
                rf"\b(?:your )?{noun} \{{{key}\}}",
                lambda m, noun=noun: f"{'Your' if m.group(0)[0].isupper() else 'your'} {noun}",
                out,
                flags=re.I,
            )
    for key, default in _FALLBACK.items():
        if key in slots:
            out = out.replace("{" + key + "}", slots[key])
            continue
        out = out.replace("{" + key + "}", default, 1)
        out = out.replace("{" + key + "}", _FALLBACK_AGAIN.get(key, default))
    return out
