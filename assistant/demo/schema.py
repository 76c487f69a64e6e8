"""What the demo content files hold: one frozen dataclass per table, and the placeholders.

`assistant.demo.content.load_content` reads the TOML files in `assistant/demo_data/content/` into
these classes; each field's metadata says what kind of value its key takes (a list of phrasings
and the placeholders filled in it, a number, a choice...), and the loader checks it by that.
The files' format is described in docs/demo-company.md ("Editing the demo content").
"""

from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, field
from typing import Any

# The placeholders the generator fills in a template (assistant.demo.dialogues._context), with
# what each becomes. A test checks that the generator fills exactly these.
SLOTS: dict[str, str] = {
    "name": "the customer's first name",
    "last": "the customer's last name",
    "email": "the customer's email (on an example domain)",
    "order": "an order number, NH-48213",
    "ticket": "a ticket number, T-90412",
    "product": "what the customer calls the product (an alias)",
    "a_product": "the alias with a/an",
    "device": "the product's name, Nimbus Cam",
    "other_device": "another product's name without Nimbus",
    "part": "one of the product's parts",
    "setup_hint": "the product's setup hint",
    "hub_answer": "the product's answer to 'do I need the Hub?'",
    "room": "a room",
    "relative": "a relative",
    "ago": "when the customer ordered, in their words (yesterday, last week)",
    "month": "the month of the order",
    "months": "months since the order (at least 3)",
    "time_ref": "a recent moment (last night, this morning)",
    "weekday": "a weekday in the coming days",
    "ship_method": "standard or express shipping",
    "carrier": "a carrier",
    "order_date": "the order date, Monday, March 2",
    "ship_date": "the ship date",
    "eta": "the expected delivery date",
    "express_eta": "a delivery date two business days ahead",
    "replacement_eta": "a replacement's delivery date",
    "delivered_date": "the delivery date",
    "check_date": "a date two business days ahead",
    "refund_date": "the day a refund was issued",
    "return_scan": "the day a return was scanned",
    "refund_eta": "the day a refund shows up",
    "renew_date": "the subscription's renewal date",
    "trial_end": "the trial's last day",
    "charge_date": "the day of a charge, March 2",
    "plan": "a plan name",
    "billing": "monthly or yearly",
    "amount": "the plan's price, or an order total (an outcome's charge)",
    "code": "a promo code",
    "card_brand": "a card brand",
    "last4": "a card's last four digits",
    "address": "a street address",
    "phone": "a phone number in the 555-01xx range",
    "phone_model": "the customer's phone",
    "a_phone": "the phone with a/an",
    "app_version": "an app version, 5.3.1",
    "firmware": "a firmware version, 4.2.7",
    "percent": "a battery percentage",
    "battery_days": "days a battery lasted",
    "wait": "minutes until a person joins",
    "team": "the team of the intent (or support)",
}
DETAILS = ("order", "email", "custom", "none")  # what the agent asks for before answering
CHARGES = ("plan", "order")  # what {amount} is in an outcome
GLUE_LABELS = ("greeting", "oos", "human_agent", "thanks_goodbye")  # labels that are no intent
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")  # intent, group, list and product names

# ---------------------------------------------------------------------------------------------
# What a key holds: field metadata read by the checking builder below
# ---------------------------------------------------------------------------------------------


def _spec(kind: str, default: Any = MISSING, **options: Any) -> Any:
    if default is MISSING:
        return field(metadata={"kind": kind, **options})
    return field(default=default, metadata={"kind": kind, **options})


def _phrases(slots: str | None = "ctx", *, blank: bool = False, default: Any = MISSING) -> Any:
    """A list of phrasings, or the name of a shared list. `slots`: which placeholders are filled
    ("ctx": SLOTS, "oos": the off-topic slots, None: none, the text is used as written)."""
    return _spec("phrases", default, slots=slots, blank=blank)


def _text(default: Any = MISSING, slots: str | None = None) -> Any:
    return _spec("text", default, slots=slots)


@dataclass(frozen=True)
class Followup:
    """A customer follow-up question and the agent's answers to it."""

    asks: tuple[str, ...] = _phrases()  # customer phrasings
    answers: tuple[str, ...] = _phrases()  # agent reply variants
    intent: str | None = _spec("label", None)  # label when the question is an intent on its own


@dataclass(frozen=True)
class Outcome:
    """One way a request ends: the agent's reply variants and what the customer may ask next."""

    replies: tuple[str, ...] = _phrases()  # agent reply variants (templates)
    weight: float = _spec("number", 1.0)  # relative frequency among the intent's outcomes
    followups: tuple[Followup, ...] = _spec("blocks", (), cls=Followup, key="followup")
    openers: tuple[str, ...] = _phrases(default=())  # opening phrasings only this outcome fits
    terse: tuple[str, ...] = _phrases(default=())  # terse openings only this outcome fits
    answers: tuple[str, ...] = _phrases(default=())  # customer detail answers for this outcome
    resolved: bool = _spec("flag", True)  # False when the case stays open
    age: tuple[int, int] | None = _spec("days", None)  # order age in days, when it matters
    charge: str = _spec("choice", "plan", choices=CHARGES)  # what {amount} is
    products: tuple[str, ...] = _spec("products", ())  # product keys, when only some fit


@dataclass(frozen=True)
class Intent:
    """Everything needed to write one intent's part of a dialogue."""

    name: str = _spec("name")
    weight: float = _spec("number")  # relative frequency as an opening request
    openers: tuple[str, ...] = _phrases()  # full-sentence request phrasings (templates)
    terse: tuple[str, ...] = _phrases()  # terse chat openings
    context: tuple[str, ...] = _phrases()  # background sentences for long messages
    outcomes: tuple[Outcome, ...] = _spec("blocks", cls=Outcome, key="outcome")
    detail: str = _spec("choice", "none", choices=DETAILS)  # what the agent asks for
    ask: tuple[str, ...] = _phrases(default=())  # agent questions for the detail
    answers: tuple[str, ...] = _phrases(default=())  # customer answers for a "custom" detail
    products: tuple[str, ...] = _spec("products", ())  # product keys this intent is about
    age: tuple[int, int] = _spec("days", (2, 9))  # default order age in days
    team: str = _spec("team", "support")  # team a handed-over case goes to
    given_by: str = _spec("slot", "")  # slot that, in the opening, makes asking unnecessary
    topical: bool = _spec("flag", False)  # outcomes answer different questions
    calm: bool = _spec("flag", False)  # a question about facts: customers are rarely angry


@dataclass(frozen=True)
class Product:
    """A product: its name, what customers call it, and the facts replies quote."""

    name: str = _text()  # {device}
    aliases: tuple[str, ...] = _phrases(None)  # {product}
    setup_hint: str = _text()  # {setup_hint}
    parts: tuple[str, ...] = _phrases(None)  # {part}
    hub_answer: str = _text()  # {hub_answer}


@dataclass(frozen=True)
class Plan:
    """A subscription plan at one billing period."""

    name: str = _text()  # {plan}
    billing: str = _text()  # {billing}
    price: str = _text()  # {amount} when an outcome's charge is "plan"


@dataclass(frozen=True)
class Customers:
    """Who writes in, and what they have at home."""

    first_names: tuple[str, ...] = _phrases(None)
    last_names: tuple[str, ...] = _phrases(None)
    email_domains: tuple[str, ...] = _phrases(None)
    phone_models: tuple[str, ...] = _phrases(None)
    card_brands: tuple[str, ...] = _phrases(None)
    rooms: tuple[str, ...] = _phrases(None)


@dataclass(frozen=True)
class Addresses:
    """Street addresses: a street and a [city, state] pair."""

    streets: tuple[str, ...] = _phrases(None)
    cities: tuple[tuple[str, str], ...] = _spec("pairs")


@dataclass(frozen=True)
class Shop:
    """Order facts: carriers and promo codes."""

    carriers: tuple[str, ...] = _phrases(None)
    promo_codes: tuple[str, ...] = _phrases(None)


@dataclass(frozen=True)
class Company:
    """company.toml: the world the dialogues talk about."""

    intent_groups: tuple[str, ...] = _spec("names")  # one <group>.toml each, in this order
    teams: tuple[str, ...] = _spec("names")  # teams a case can be handed to
    customers: Customers = _spec("section", cls=Customers)
    addresses: Addresses = _spec("section", cls=Addresses)
    shop: Shop = _spec("section", cls=Shop)
    plans: tuple[Plan, ...] = _spec("blocks", cls=Plan, key="plans")
    products: dict[str, Product] = _spec("keyed", cls=Product)


@dataclass(frozen=True)
class Greeting:
    """Label "greeting": a hello with no request yet."""

    weight: float = _spec("number")
    heads: tuple[str, ...] = _phrases(None)
    tails: tuple[str, ...] = _phrases(blank=True)
    replies: tuple[str, ...] = _phrases()


@dataclass(frozen=True)
class ThanksGoodbye:
    """Label "thanks_goodbye": thanks at the start (for earlier help) or at the end."""

    weight: float = _spec("number")
    openers: tuple[str, ...] = _phrases()
    heads: tuple[str, ...] = _phrases(None)
    tails: tuple[str, ...] = _phrases(None, blank=True)
    grumpy: tuple[str, ...] = _phrases(None)
    replies: tuple[str, ...] = _phrases()
    nothing_else: tuple[str, ...] = _phrases(None)
    one_more_thing: tuple[str, ...] = _phrases(None)


@dataclass(frozen=True)
class HumanAgent:
    """Label "human_agent": asking for a person, and the agent handing over."""

    weight: float = _spec("number")
    openers: tuple[str, ...] = _phrases(None)
    opener_leads: tuple[str, ...] = _phrases(None, blank=True)
    opener_tails: tuple[str, ...] = _phrases(None, blank=True)
    mid: tuple[str, ...] = _phrases(None)
    insist: tuple[str, ...] = _phrases(None)
    why: tuple[str, ...] = _phrases()
    try_first: tuple[str, ...] = _phrases()
    handoff: tuple[str, ...] = _phrases()
    handoff_email: tuple[str, ...] = _phrases()


@dataclass(frozen=True)
class Details:
    """The details an agent asks for (order number, email) and how customers give them."""

    order_answers: tuple[str, ...] = _phrases()
    no_order: tuple[str, ...] = _phrases(None)
    no_order_ask: tuple[str, ...] = _phrases()
    email_answers: tuple[str, ...] = _phrases()
    found_order: tuple[str, ...] = _phrases()
    order_in_message: tuple[str, ...] = _phrases()
    email_in_message: tuple[str, ...] = _phrases()


@dataclass(frozen=True)
class Wording:
    """Wording around requests: small talk, frustration, politeness, empathy, topic changes."""

    small_talk: tuple[str, ...] = _phrases(None)
    hello: tuple[str, ...] = _phrases(None)
    frustration: tuple[str, ...] = _phrases()
    polite: tuple[str, ...] = _phrases()
    empathy: tuple[str, ...] = _phrases()
    switch_topic: tuple[str, ...] = _phrases(None)
    clarify: tuple[str, ...] = _phrases()


@dataclass(frozen=True)
class Closing:
    """The agent's last message."""

    replies: tuple[str, ...] = _phrases()
    grumpy: tuple[str, ...] = _phrases()
    handed_over: tuple[str, ...] = _phrases()
    handed_over_email: tuple[str, ...] = _phrases()


@dataclass(frozen=True)
class Email:
    """How emails start and end."""

    customer_greetings: tuple[str, ...] = _phrases(None)
    customer_signoffs: tuple[str, ...] = _phrases(None)
    agent_signoffs: tuple[str, ...] = _phrases(None)


@dataclass(frozen=True)
class OutOfScope:
    """Label "oos": messages outside Nimbus Home support."""

    weight: float = _spec("number")
    slots: dict[str, tuple[str, ...]] = _spec("slot_lists")  # before messages: they use them
    messages: tuple[str, ...] = _phrases("oos")
    replies: tuple[str, ...] = _phrases()
    after: tuple[str, ...] = _phrases(None)
    then: tuple[str, ...] = _phrases(None)
    aside: tuple[str, ...] = _phrases(None)


@dataclass(frozen=True)
class Conversation:
    """conversation.toml: everything around a request."""

    greeting: Greeting = _spec("section", cls=Greeting)
    thanks_goodbye: ThanksGoodbye = _spec("section", cls=ThanksGoodbye)
    human_agent: HumanAgent = _spec("section", cls=HumanAgent)
    details: Details = _spec("section", cls=Details)
    wording: Wording = _spec("section", cls=Wording)
    closing: Closing = _spec("section", cls=Closing)
    email: Email = _spec("section", cls=Email)


@dataclass(frozen=True)
class OutOfScopeFile:
    """out_of_scope.toml."""

    oos: OutOfScope = _spec("section", cls=OutOfScope)


@dataclass(frozen=True)
class Content:
    """Everything the generator needs, checked."""

    company: Company
    intents: dict[str, Intent]  # by name, groups in `company.intent_groups` order
    lists: dict[str, tuple[str, ...]]  # the shared lists, by name
    conversation: Conversation
    oos: OutOfScope

    @property
    def opening_weights(self) -> dict[str, float]:
        """How often each label opens a dialogue (relative): the intents, then the glue labels."""
        c = self.conversation
        return {
            **{name: intent.weight for name, intent in self.intents.items()},
            "greeting": c.greeting.weight,
            "oos": self.oos.weight,
            "human_agent": c.human_agent.weight,
            "thanks_goodbye": c.thanks_goodbye.weight,
        }

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label, sorted: the intents and the glue labels."""
        return tuple(sorted(self.opening_weights))


__all__ = [
    "SLOTS",
    "GLUE_LABELS",
    "Content",
    "Company",
    "Conversation",
    "Intent",
    "Outcome",
    "Followup",
    "Product",
    "Plan",
    "OutOfScope",
]
