"""The demo company's support history: seeded, synthetic Nimbus Home dialogues.

The demo intent classifier and response ranker are trained on these dialogues, and a held-out file
from another seed measures them. The words come from the content files read by
`assistant.demo.content` (our own writing about the fictional company in docs/demo-company.md);
this module only decides how they are put together.

How a dialogue is built (all choices come from one `random.Random(seed)`):

1. a schedule fixes which label opens each dialogue: every label gets a floor of openings and the
   rest follows the labels' weights (order status and offline devices common, account deletion
   rare);
2. the customer's opening is composed from slots (small talk, context, the request, emotion,
   politeness), sometimes terse, sometimes long, and ~15% of chat messages get deterministic chat
   noise (lower case, missing apostrophes, dropped or swapped letters);
3. the agent asks for a detail (order number, account email, device state), the customer gives it
   (a turn without an intent), the agent answers with a policy-consistent reply, the customer may
   ask a follow-up, change topic, ask for a person (ticket T-xxxxx) or say thanks, and the agent
   closes.

Agent replies name the customer ("Thanks, Priya!"), order numbers (NH-48213), tickets (T-90412),
dates and @example.com / @example.org emails, so the runtime can swap them for placeholders.

The same content and seed always give the same dialogues, byte for byte; after editing the content,
regenerate the shipped files with `python -m assistant.demo.dialogues`.

Example:
    >>> dialogues = generate_dialogues(40, seed=7)
    >>> len(dialogues), dialogues[0]["id"], dialogues[0]["turns"][0]["role"]
    (40, 'demo-00001', 'customer')
    >>> generate_dialogues(40, seed=7) == dialogues
    True
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from assistant.demo.content import ContentError, load_content
from assistant.demo.schema import Content, Intent, Outcome

T = TypeVar("T")

START = date(2025, 9, 1)  # first day of the history
DAYS = 194  # the history ends on 2026-03-13
MAX_CUSTOMER_TURNS = 6
NOISE_RATE = 0.15  # share of chat customer messages written in sloppy chat style
EMAIL_RATE = 0.15  # share of dialogues that happen by email
TRAIN_SIZE, TRAIN_SEED = 2000, 13  # assistant/demo_data/dialogues.jsonl
TEST_SIZE, TEST_SEED = 300, 2026  # assistant/demo_data/dialogues_test.jsonl
VAL_SIZE, VAL_SEED = 300, 4099  # assistant/demo_data/dialogues_val.jsonl (policy calibration)
DEMO_DATA = Path(__file__).resolve().parents[1] / "demo_data"

# Order and ticket numbers and emails: chat noise leaves them intact.
_PROTECTED = re.compile(r"\b(?:NH|T)-\d{5}\b|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# ---------------------------------------------------------------------------------------------
# Context: the names, numbers and dates one dialogue talks about
# ---------------------------------------------------------------------------------------------


def _pick(rng: random.Random, options: Sequence[T]) -> T:
    return options[rng.randrange(len(options))]


def _weighted(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(items, weights=weights, k=1)[0]


def _add_business_days(day: date, n: int) -> date:
    """`day` moved forward by `n` business days (Monday to Friday).

    >>> _add_business_days(date(2026, 3, 13), 1)  # a Friday
    datetime.date(2026, 3, 16)
    """
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _long_date(day: date) -> str:
    return f"{day:%A}, {day:%B} {day.day}"


def _short_date(day: date) -> str:
    return f"{day:%B} {day.day}"


def _ago(days: int, today: date, rng: random.Random) -> str:
    """How a customer says when they ordered: "yesterday", "last week", "back in January"."""
    then = today - timedelta(days=days)
    if days == 0:
        return _pick(rng, ("earlier today", "this morning", "a few hours ago"))
    if days == 1:
        return _pick(rng, ("yesterday", "last night"))
    if days < 7:
        return _pick(rng, (f"{days} days ago", f"on {then:%A}", "a few days ago"))
    if days < 14:
        return _pick(
            rng, ("last week", f"{days} days ago", "over a week ago", f"on {then:%A} last week")
        )
    if days < 35:
        return _pick(rng, ("a few weeks ago", f"on {_short_date(then)}", f"{days // 7} weeks ago"))
    return _pick(
        rng,
        (
            f"back in {then:%B}",
            f"about {max(2, days // 30)} months ago",
            f"in {then:%B} {then.year}",
        ),
    )


def _a(noun: str) -> str:
    return ("an " if noun[0].lower() in "aeiou" else "a ") + noun


def _person(rng: random.Random, c: Content) -> dict[str, str]:
    """A customer: first and last name and an email on a reserved example domain."""
    people = c.company.customers
    first, last = _pick(rng, people.first_names), _pick(rng, people.last_names)
    f, l_ = first.lower(), last.lower()
    local = _pick(
        rng,
        (
            f"{f}.{l_}",
            f"{f}{l_}{rng.randint(1, 99)}",
            f"{f[0]}.{l_}",
            f"{f}_{rng.randint(70, 99)}",
            f"{f}.{l_[0]}",
            f"{l_}.{f}",
        ),
    )
    return {"name": first, "last": last, "email": f"{local}@{_pick(rng, people.email_domains)}"}


def _context(
    rng: random.Random,
    c: Content,
    today: date,
    person: dict[str, str],
    intent: Intent | None,
    outcome: Outcome | None,
) -> dict[str, str]:
    """Every slot a template may use (`content.SLOTS`), consistent with the outcome (dates, plan,
    amounts)."""
    company = c.company
    products = (outcome.products if outcome else ()) or (intent.products if intent else ())
    key = _pick(rng, products or c.lists["any_product"])
    product = company.products[key]
    alias = _pick(rng, product.aliases)
    lo, hi = (outcome.age if outcome and outcome.age else None) or (
        intent.age if intent else (2, 9)
    )
    age = rng.randint(lo, hi)
    order_day = today - timedelta(days=age)
    express = rng.random() < 0.25
    ship_day = _add_business_days(order_day, 1)
    eta = _add_business_days(ship_day, 2 if express else 5)
    if eta <= today:
        eta = _add_business_days(today, 1)
    delivered = min(_add_business_days(order_day, 4), today - timedelta(days=1))
    refund_day = today - timedelta(days=rng.randint(1, 4))
    plan = _pick(rng, company.plans)
    order_total = f"${rng.randint(55, 340)}.{_pick(rng, ('00', '95', '99', '49', '98'))}"
    phone = _pick(rng, company.customers.phone_models)
    other = _pick(rng, [p for p in company.products.values() if p.name != product.name])
    weekday_ahead = today + timedelta(days=rng.randint(2, 6))
    past_day = today - timedelta(days=rng.randint(2, 5))
    city, state = _pick(rng, company.addresses.cities)
    ctx = dict(person)
    ctx.update(
        order=f"NH-{rng.randint(10000, 99999)}",
        ticket=f"T-{rng.randint(10000, 99999)}",
        product=alias,
        a_product=_a(alias),
        device=product.name,
        other_device=other.name.removeprefix("Nimbus "),
        part=_pick(rng, product.parts),
        setup_hint=product.setup_hint,
        hub_answer=product.hub_answer,
        room=_pick(rng, company.customers.rooms),
        relative=_pick(rng, c.lists["relatives"]),
        ago=_ago(age, today, rng),
        month=f"{order_day:%B}",
        months=str(max(3, age // 30)),
        time_ref=_pick(
            rng,
            (
                "yesterday",
                "last night",
                "this morning",
                "yesterday afternoon",
                "earlier today",
                f"last {past_day:%A}",
            ),
        ),
        weekday=f"{weekday_ahead:%A}",
        ship_method="express shipping" if express else "standard shipping",
        carrier=_pick(rng, company.shop.carriers),
        order_date=_long_date(order_day),
        ship_date=_long_date(ship_day),
        eta=_long_date(eta),
        express_eta=_long_date(_add_business_days(today, 2)),
        replacement_eta=_long_date(_add_business_days(today, rng.randint(2, 3))),
        delivered_date=_long_date(delivered),
        check_date=_long_date(_add_business_days(today, 2)),
        refund_date=_long_date(refund_day),
        return_scan=_long_date(today - timedelta(days=rng.randint(1, 3))),
        refund_eta=_long_date(_add_business_days(refund_day, 10)),
        renew_date=_long_date(today + timedelta(days=rng.randint(3, 28))),
        trial_end=_long_date(today + timedelta(days=rng.randint(1, 12))),
        charge_date=_short_date(today - timedelta(days=rng.randint(1, 6))),
        plan=plan.name,
        billing=plan.billing,
        amount=order_total if outcome and outcome.charge == "order" else plan.price,
        code=_pick(rng, company.shop.promo_codes),
        card_brand=_pick(rng, company.customers.card_brands),
        last4=f"{rng.randint(0, 9999):04d}",
        address=f"{rng.randint(2, 980)} {_pick(rng, company.addresses.streets)}"
        + _pick(rng, ("", "", f", Apt {rng.randint(1, 40)}{_pick(rng, 'ABCD')}"))
        + f", {city}, {state} {rng.randint(10000, 99999)}",
        phone=f"+1 (555) 01{rng.randint(0, 9)}-{rng.randint(1000, 9999)}",
        phone_model=phone,
        a_phone=_a(phone),
        app_version=f"5.{rng.randint(1, 9)}.{rng.randint(0, 4)}",
        firmware=f"4.{rng.randint(1, 8)}.{rng.randint(0, 9)}",
        percent=str(rng.randint(12, 97)),
        battery_days=str(rng.randint(2, 9)),
        wait=str(rng.randint(2, 8)),
        team=intent.team if intent else "support",
    )
    return ctx


def _fill_detail(template: str, ctx: dict[str, str]) -> str:
    """A detail answer: capitalised unless it starts with the detail itself ("priya@...")."""
    return template.format_map(ctx) if template[:1] == "{" else _fill(template, ctx)


def _fill(template: str, ctx: dict[str, str]) -> str:
    """`template` with its slots filled, starting with a capital letter."""
    text = template.format_map(ctx)
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# Customer wording: composed openings and deterministic chat noise
# ---------------------------------------------------------------------------------------------


def chat_noise(text: str, rng: random.Random) -> str:
    """Chat-style text: lower case, no apostrophes, shortcuts and one or two typos.

    Order numbers, ticket numbers and emails are left intact.

    >>> chat_noise("I don't know where my order NH-12345 is.", random.Random(3))
    'i dont know whhere my ordre NH-12345 is'
    """
    lower = rng.random() < 0.85
    drop_apostrophes = rng.random() < 0.7
    shortcuts = rng.random() < 0.35
    pieces = _PROTECTED.split(text)
    protected = _PROTECTED.findall(text)
    for i, piece in enumerate(pieces):
        if lower:
            piece = piece.lower()
        if drop_apostrophes:
            piece = piece.replace("'", "")
        if shortcuts:
            piece = re.sub(r"\bplease\b", "pls", piece)
            piece = re.sub(r"\byou\b", "u", piece)
            piece = re.sub(r"\bthanks\b", "thx", piece)
        pieces[i] = piece
    text = pieces[0] + "".join(p + q for p, q in zip(protected, pieces[1:], strict=True))
    tokens = text.split(" ")
    candidates = [i for i, t in enumerate(tokens) if t.isalpha() and len(t) >= 4]
    for _ in range(rng.choice((1, 1, 2))):
        if not candidates:
            break
        i = candidates.pop(rng.randrange(len(candidates)))
        word = tokens[i]
        j = rng.randrange(1, len(word) - 1)
        kind = rng.random()
        if kind < 0.45:
            word = word[:j] + word[j + 1 :]  # dropped letter
        elif kind < 0.85:
            word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]  # swapped letters
        else:
            word = word[:j] + word[j] + word[j:]  # doubled letter
        tokens[i] = word
    text = " ".join(tokens)
    return text.rstrip(".") if rng.random() < 0.7 else text


def _opening(
    rng: random.Random,
    c: Content,
    intent: Intent,
    pools: tuple[Sequence[str], Sequence[str]],
    ctx: dict[str, str],
    channel: str,
    *,
    small_talk: bool = True,
    anger: float = 0.1,
    styles: tuple[int, int, int, int] = (12, 44, 29, 15),
) -> tuple[str, bool, bool]:
    """A customer request from `pools` (full sentences, terse messages), composed in one of four
    styles (terse, plain, long, small talk first) weighted by `styles`.

    Returns (text, whether it already gives the detail the agent would ask for, frustrated).
    """
    wording, details = c.conversation.wording, c.conversation.details
    openers, terse = pools
    style = _weighted(rng, ("terse", "plain", "long", "smalltalk"), styles)
    if channel == "email":
        style = "long"
    if style == "terse" and terse:
        core = _pick(rng, terse)
        return core.format_map(ctx), _has_detail(intent, core), False
    core = _pick(rng, openers)
    given = _has_detail(intent, core)
    sentences = [core]
    if style in ("long", "smalltalk") and intent.context and rng.random() < 0.8:
        context = _pick(rng, intent.context)
        if not any(slot in core and slot in context for slot in ("{ago}", "{a_product}")):
            sentences.insert(0, context) if rng.random() < 0.65 else sentences.append(context)
    if style == "long" and intent.detail == "order" and not given and rng.random() < 0.3:
        sentences.append(_pick(rng, details.order_in_message))
        given = True
    if style == "long" and intent.detail == "email" and not given and rng.random() < 0.25:
        sentences.append(_pick(rng, details.email_in_message))
        given = True
    frustrated = rng.random() < anger
    if frustrated:
        sentences.append(_pick(rng, wording.frustration))
    elif rng.random() < 0.22:
        sentences.append(_pick(rng, wording.polite))
    text = " ".join(_fill(s, ctx) for s in sentences)
    if style == "smalltalk" and small_talk and not frustrated:
        text = _pick(rng, wording.small_talk) + " " + text
    elif style == "plain" and small_talk and rng.random() < 0.3:
        text = _join(_pick(rng, wording.hello), text)
    return text, given, frustrated


def _has_detail(intent: Intent, template: str) -> bool:
    key = intent.given_by or {"order": "{order}", "email": "{email}"}.get(intent.detail, "")
    return bool(key) and key in template


def _greeting(rng: random.Random, c: Content, ctx: dict[str, str]) -> str:
    greeting = c.conversation.greeting
    text = _pick(rng, greeting.heads) + _pick(rng, greeting.tails).format_map(ctx)
    return text[:1].upper() + text[1:] if rng.random() < 0.5 else text


def _thanks(rng: random.Random, c: Content, grumpy: bool) -> str:
    thanks = c.conversation.thanks_goodbye
    if grumpy and rng.random() < 0.6:
        return _pick(rng, thanks.grumpy)
    text = _pick(rng, thanks.heads) + _pick(rng, thanks.tails)
    return text[:1].upper() + text[1:] if rng.random() < 0.5 else text


def _human_opener(rng: random.Random, c: Content) -> str:
    human = c.conversation.human_agent
    core = _pick(rng, human.openers)
    if not core.endswith((".", "?", "!")):
        return core  # terse: "agent please"
    lead = _pick(rng, human.opener_leads)
    tail = _pick(rng, human.opener_tails)
    return (_join(lead, core) if lead else core) + tail


def _oos(rng: random.Random, c: Content) -> str:
    template = _pick(rng, c.oos.messages)
    slots = {k: _pick(rng, v) for k, v in c.oos.slots.items()}
    text = template.format_map(slots)
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# Dialogue flow
# ---------------------------------------------------------------------------------------------


class _Dialogue:
    """The turns of one dialogue as they are written, with the budget of customer turns."""

    def __init__(
        self, rng: random.Random, c: Content, channel: str, person: dict[str, str], today: date
    ) -> None:
        self.rng, self.c, self.channel, self.person, self.today = rng, c, channel, person, today
        self.turns: list[dict[str, str]] = []

    @property
    def n_customer(self) -> int:
        return sum(t["role"] == "customer" for t in self.turns)

    def room(self, k: int) -> bool:
        """Whether `k` more customer turns fit."""
        return self.n_customer + k <= MAX_CUSTOMER_TURNS

    def customer(self, text: str, intent: str | None = None) -> None:
        rng, email = self.rng, self.c.conversation.email
        if self.channel == "chat" and rng.random() < NOISE_RATE:
            text = chat_noise(text, rng)
        elif self.channel == "email":
            if not self.turns:
                text = (
                    f"{_pick(rng, email.customer_greetings)}\n\n{text}\n\n"
                    f"{_pick(rng, email.customer_signoffs)}\n{self.person['name']}"
                )
            elif rng.random() < 0.6:
                text = f"{text}\n\n{self.person['name']}"
        turn = {"role": "customer", "text": text}
        if intent:
            turn["intent"] = intent
        self.turns.append(turn)

    def agent(self, template: str, ctx: dict[str, str], prefix: str = "") -> None:
        text = _fill(prefix + template, ctx)
        if self.channel == "email":
            signoff = _pick(self.rng, self.c.conversation.email.agent_signoffs)
            text = f"Hi {ctx['name']},\n\n{text}\n\n{signoff}"
        self.turns.append({"role": "agent", "text": text})


_LEAD = re.compile(
    r"^(?:Sure|Happy|Thanks|Thank you|Great|Good|Of course|No problem|I can|Let's|Sorry|Oh no"
    r"|That's|Congrats|I'm sorry)[^.!?]{0,40}[.!?] +(?=\S)"
)


def _after_empathy(template: str) -> str:
    """`template` without a short lead-in ("Sure, {name}!") that would follow an apology badly."""
    return _LEAD.sub("", template, count=1)


def _join(prefix: str, text: str) -> str:
    """`prefix` + `text`, lower-casing the text's first letter where the prefix runs into it."""
    if prefix.endswith((". ", ": ", "— ", "! ", "? ")) or re.match(r"(I\b|I'|Nimbus|NH-|T2)", text):
        return prefix + text
    return prefix + text[:1].lower() + text[1:]


@dataclass
class _Topic:
    """What happened while handling one request."""

    ctx: dict[str, str]
    resolved: bool
    frustrated: bool
    handed_over: bool = False


def _handoff(d: _Dialogue, ctx: dict[str, str]) -> None:
    human = d.c.conversation.human_agent
    d.agent(_pick(d.rng, human.handoff_email if d.channel == "email" else human.handoff), ctx)


def _topic(
    d: _Dialogue,
    intent: Intent,
    *,
    prefix: str = "",
    followups: bool = True,
    hand_over: bool = False,
    reserve: int = 1,
) -> _Topic:
    """One request: opening, detail question and answer, resolution, follow-ups."""
    rng, c = d.rng, d.c
    wording, details = c.conversation.wording, c.conversation.details
    outcome = _weighted(rng, intent.outcomes, [o.weight for o in intent.outcomes])
    ctx = _context(rng, c, d.today, d.person, intent, outcome)
    anger = 0.0 if intent.calm else 0.18 if not outcome.resolved else 0.08
    empathy = ""
    if intent.topical:
        # The intent's own openers are vague ("question about shipping"): either ask what exactly
        # the customer wants, or start straight from the outcome's specific phrasings.
        pools = (outcome.openers, outcome.terse or outcome.openers)
        if rng.random() < 0.3 and d.room(2 + reserve) and not hand_over:
            text, _, angry = _opening(
                rng,
                c,
                intent,
                (intent.openers, intent.terse),
                ctx,
                d.channel,
                small_talk=not prefix,
                anger=anger,
            )
            d.customer(_join(prefix, text) if prefix else text, intent.name)
            d.agent(
                _pick(rng, wording.clarify), ctx, _pick(rng, wording.empathy) + " " if angry else ""
            )
            empathy = "done" if angry else ""
            text, given, _ = _opening(
                rng,
                c,
                intent,
                pools,
                ctx,
                d.channel,
                small_talk=False,
                anger=0,
                styles=(20, 60, 20, 0),
            )
            d.customer(text, intent.name)
        else:
            text, given, angry = _opening(
                rng, c, intent, pools, ctx, d.channel, small_talk=not prefix, anger=anger
            )
            d.customer(_join(prefix, text) if prefix else text, intent.name)
    else:
        use_outcome = outcome.openers and rng.random() < 0.5
        pools = (
            outcome.openers if use_outcome else intent.openers,
            outcome.terse if use_outcome and outcome.terse else intent.terse,
        )
        text, given, angry = _opening(
            rng, c, intent, pools, ctx, d.channel, small_talk=not prefix, anger=anger
        )
        d.customer(_join(prefix, text) if prefix else text, intent.name)
    if hand_over:
        _handoff(d, ctx)
        return _Topic(ctx, False, angry, handed_over=True)
    empathy = _pick(rng, wording.empathy) + " " if angry and not empathy else ""
    found = ""
    if intent.detail != "none" and not given:
        if intent.detail == "order" and rng.random() < 0.1 and d.room(2 + reserve):
            d.agent(
                _after_empathy(_pick(rng, intent.ask)) if empathy else _pick(rng, intent.ask),
                ctx,
                empathy,
            )
            d.customer(_pick(rng, details.no_order))
            d.agent(_pick(rng, details.no_order_ask), ctx)
            d.customer(_fill_detail(_pick(rng, details.email_answers), ctx))
            found = _pick(rng, details.found_order)
        else:
            ask = _pick(rng, intent.ask)
            d.agent(_after_empathy(ask) if empathy else ask, ctx, empathy)
            answers = (
                outcome.answers
                or intent.answers
                or (details.order_answers if intent.detail == "order" else details.email_answers)
            )
            d.customer(_fill_detail(_pick(rng, answers), ctx))
        empathy = ""
    reply = _pick(rng, outcome.replies)
    d.agent(_after_empathy(reply) if empathy else reply, ctx, empathy + found)
    if followups and outcome.followups:
        wanted = _weighted(rng, (0, 1, 2), (40, 45, 15) if d.channel == "chat" else (70, 30, 0))
        for k in sorted(rng.sample(range(len(outcome.followups)), len(outcome.followups))[:wanted]):
            if not d.room(1 + reserve):
                break
            fu = outcome.followups[k]
            d.customer(_fill(_pick(rng, fu.asks), ctx), fu.intent)
            d.agent(_pick(rng, fu.answers), ctx)
    return _Topic(ctx, outcome.resolved, angry)


def _service_intent(rng: random.Random, c: Content, exclude: str = "") -> Intent:
    names = [n for n in c.intents if n != exclude]
    return c.intents[_weighted(rng, names, [c.intents[n].weight for n in names])]


def _et_offset(day: date) -> int:
    """Hours from US Eastern time to UTC (daylight saving time ends Nov 2, 2025, starts Mar 8)."""
    return 5 if date(2025, 11, 2) <= day < date(2026, 3, 8) else 4


def _close(d: _Dialogue, topic: _Topic, handed_over: bool) -> None:
    rng, closing = d.rng, d.c.conversation.closing
    grumpy = topic.frustrated or not topic.resolved
    d.customer(_thanks(rng, d.c, grumpy and rng.random() < 0.5), "thanks_goodbye")
    if handed_over:
        closes = closing.handed_over if d.channel == "chat" else closing.handed_over_email
        d.agent(_pick(rng, closes), topic.ctx)
    elif grumpy and rng.random() < 0.5:
        d.agent(_pick(rng, closing.grumpy), topic.ctx)
    else:
        # An email's closing never names the customer: the signature already does.
        closes = closing.replies
        if d.channel != "chat":
            closes = tuple(text for text in closes if "{" not in text)
        d.agent(_pick(rng, closes), topic.ctx)


def _dialogue(rng: random.Random, c: Content, opening: str) -> dict:
    """One dialogue whose first customer message is labelled `opening`."""
    conv = c.conversation
    chat_only = opening in ("greeting", "human_agent", "oos")
    channel = "email" if not chat_only and rng.random() < EMAIL_RATE else "chat"
    day = START + timedelta(days=rng.randrange(DAYS))
    hour = rng.randint(7, 21) if channel == "chat" else rng.randint(0, 23)
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60))
    created = local + timedelta(hours=_et_offset(day))
    d = _Dialogue(rng, c, channel, _person(rng, c), day)
    main = c.intents.get(opening) or _service_intent(rng, c)
    topics: list[_Topic] = []
    handed_over = False
    closing_done = False

    if opening in c.intents:
        topics.append(_topic(d, main))
    elif opening == "greeting":
        ctx = _context(rng, c, day, d.person, None, None)
        d.customer(_greeting(rng, c, ctx), "greeting")
        d.agent(_pick(rng, conv.greeting.replies), ctx)
        topics.append(_topic(d, main, prefix=""))
    elif opening == "oos":
        ctx = _context(rng, c, day, d.person, None, None)
        d.customer(_oos(rng, c), "oos")
        replies = c.oos.replies
        first = rng.randrange(len(replies))
        d.agent(replies[first], ctx)
        branch = rng.random()
        if branch < 0.45:
            if branch < 0.12:
                d.customer(_oos(rng, c), "oos")
                # Another reply than the first, so the agent does not repeat itself.
                d.agent(replies[(first + 1 + rng.randrange(3)) % len(replies)], ctx)
            d.customer(_pick(rng, c.oos.after), "thanks_goodbye")
            d.agent(_pick(rng, conv.closing.replies), ctx)
            closing_done = True
        else:
            topics.append(_topic(d, main, prefix=_pick(rng, c.oos.then)))
    elif opening == "human_agent":
        human = conv.human_agent
        ctx = _context(rng, c, day, d.person, main, None)
        d.customer(_human_opener(rng, c), "human_agent")
        if rng.random() < 0.65:
            d.agent(_pick(rng, human.why), ctx)
            if rng.random() < 0.3:
                d.customer(_pick(rng, human.insist), "human_agent")
                _handoff(d, ctx)
                topics.append(_Topic(ctx, False, False, handed_over=True))
            else:
                topics.append(_topic(d, main, hand_over=True))
        else:
            d.agent(_pick(rng, human.try_first), ctx)
            topics.append(_topic(d, main))
        handed_over = topics[-1].handed_over
    elif opening == "thanks_goodbye":
        thanks = conv.thanks_goodbye
        ctx = _context(rng, c, day, d.person, None, None)
        d.customer(_fill(_pick(rng, thanks.openers), ctx), "thanks_goodbye")
        d.agent(_pick(rng, thanks.replies), ctx)
        if rng.random() < 0.6:
            d.customer(_pick(rng, thanks.nothing_else), "thanks_goodbye")
            d.agent(_pick(rng, conv.closing.replies), ctx)
            closing_done = True
        else:
            topics.append(_topic(d, main, prefix=_pick(rng, thanks.one_more_thing)))
    else:
        raise ValueError(f"unknown opening label {opening!r}: use one of {', '.join(c.labels)}")

    if not closing_done:
        last = topics[-1]
        if not handed_over:
            p_human = 0.25 if (last.frustrated or not last.resolved) else 0.04
            roll = rng.random()
            if roll < 0.14 and d.room(3):
                second = _service_intent(rng, c, exclude=main.name)
                prefix = _pick(rng, conv.wording.switch_topic)
                topics.append(_topic(d, second, prefix=prefix, followups=False))
            elif roll < 0.14 + p_human and d.room(2):
                d.customer(_pick(rng, conv.human_agent.mid), "human_agent")
                _handoff(d, last.ctx)
                handed_over = True
            elif roll > 0.97 and d.room(2):
                d.customer(_join(_pick(rng, c.oos.aside), _oos(rng, c)), "oos")
                d.agent(_pick(rng, c.oos.replies), last.ctx)
        if d.room(1) and (rng.random() < 0.85 or d.n_customer < 2):
            _close(d, topics[-1], handed_over)
    return {
        "turns": d.turns,
        "channel": channel,
        "created": created.strftime("%Y-%m-%dT%H:%M:00Z"),
        "resolved": all(t.resolved for t in topics) and not handed_over,
    }


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def opening_schedule(n: int, rng: random.Random, content: Content | None = None) -> list[str]:
    """The opening label of each of `n` dialogues, shuffled.

    Every label opens at least min(30, n // 50) dialogues; the rest follow the labels' weights
    (`Content.opening_weights`; largest-remainder rounding, so the counts always add up to `n`).

    >>> schedule = opening_schedule(1700, random.Random(0))
    >>> len(schedule), min(schedule.count(label) for label in load_content().labels) >= 30
    (1700, True)
    """
    c = content or load_content()
    weights, labels = c.opening_weights, c.labels
    floor = min(30, n // 50)
    rest = n - floor * len(labels)
    total = sum(weights.values())
    shares = {label: rest * weights[label] / total for label in labels}
    counts = {label: floor + int(share) for label, share in shares.items()}
    by_remainder = sorted(labels, key=lambda label: (int(shares[label]) - shares[label], label))
    for label in by_remainder[: n - sum(counts.values())]:
        counts[label] += 1
    schedule = [label for label in labels for _ in range(counts[label])]
    rng.shuffle(schedule)
    return schedule


def generate_dialogues(
    n: int, seed: int, *, id_prefix: str = "demo", content: Content | None = None
) -> list[dict]:
    """`n` Nimbus Home support dialogues, in chronological order; the same seed gives the same list.

    Each dialogue is `{"id", "turns", "channel", "created", "resolved"}`; a turn is
    `{"role": "customer"|"agent", "text", "intent"?}`, where customer turns that express a
    request carry its intent (one of `Content.labels`) and turns that only give details carry none.
    `content` defaults to the bundled demo content.

    >>> dialogue = generate_dialogues(3, seed=1)[0]
    >>> sorted(dialogue), dialogue["turns"][0]["role"]
    (['channel', 'created', 'id', 'resolved', 'turns'], 'customer')
    """
    if n < 1:
        raise ValueError(f"n={n}: ask for at least one dialogue.")
    c = content or load_content()
    rng = random.Random(seed)
    dialogues = [_dialogue(rng, c, label) for label in opening_schedule(n, rng, c)]
    dialogues.sort(key=lambda dialogue: dialogue["created"])
    return [{"id": f"{id_prefix}-{i:05d}", **dialogue} for i, dialogue in enumerate(dialogues, 1)]


def write_jsonl(dialogues: Sequence[dict], path: Path) -> None:
    """Write one dialogue per line (UTF-8, keys in a fixed order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for dialogue in dialogues:
            f.write(json.dumps(dialogue, ensure_ascii=False) + "\n")


def _opening_text(dialogue: dict) -> str:
    return dialogue["turns"][0]["text"].strip().lower()


def held_out(
    n: int,
    seed: int,
    exclude: Sequence[dict],
    *,
    content: Content | None = None,
    id_prefix: str = "test",
) -> list[dict]:
    """`n` dialogues from `seed`, none opening with a message that appears in `exclude`.

    The label mix follows `opening_schedule(n)`, so dropping openings seen in training (short,
    common ones like "refund??") does not leave a label under-represented.
    """
    c = content or load_content()
    seen = {_opening_text(d) for d in exclude}
    quota = Counter(opening_schedule(n, random.Random(seed), c))
    pool = [
        d
        for d in generate_dialogues(3 * n, seed, id_prefix="test", content=c)
        if _opening_text(d) not in seen
    ]
    kept, spare = [], []
    for d in pool:
        label = d["turns"][0]["intent"]
        if quota[label] > 0:
            quota[label] -= 1
            kept.append(d)
        else:
            spare.append(d)
    kept += spare[: n - len(kept)]
    kept.sort(key=lambda d: d["created"])
    return [{**d, "id": f"{id_prefix}-{i:05d}"} for i, d in enumerate(kept, 1)]


def main(argv: Sequence[str] | None = None) -> None:
    """Write the training, held-out and validation dialogue files from the demo content.

    Example: python -m assistant.demo.dialogues --train 2000 --test 300 --val 300
    """
    parser = argparse.ArgumentParser(description=(main.__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--content",
        type=Path,
        default=None,
        help="content folder (default: assistant/demo_data/content)",
    )
    parser.add_argument(
        "--out", type=Path, default=DEMO_DATA, help="output folder (default: assistant/demo_data)"
    )
    parser.add_argument("--train", type=int, default=TRAIN_SIZE, help="training dialogues")
    parser.add_argument("--test", type=int, default=TEST_SIZE, help="held-out dialogues")
    parser.add_argument("--seed", type=int, default=TRAIN_SEED, help="seed of the training file")
    parser.add_argument(
        "--test-seed", type=int, default=TEST_SEED, help="seed of the held-out file"
    )
    parser.add_argument(
        "--val", type=int, default=VAL_SIZE, help="validation dialogues (policy calibration)"
    )
    parser.add_argument(
        "--val-seed", type=int, default=VAL_SEED, help="seed of the validation file"
    )
    args = parser.parse_args(argv)
    try:
        content = load_content(args.content)
    except ContentError as e:
        raise SystemExit(str(e)) from None
    train = generate_dialogues(args.train, args.seed, content=content)
    test = held_out(args.test, args.test_seed, train, content=content)
    # Validation (calibrating the policy) shares no opening with training or the test file.
    val = held_out(args.val, args.val_seed, train + test, content=content, id_prefix="val")
    for name, dialogues in (
        ("dialogues.jsonl", train),
        ("dialogues_test.jsonl", test),
        ("dialogues_val.jsonl", val),
    ):
        path = args.out / name
        write_jsonl(dialogues, path)
        turns = sum(len(d["turns"]) for d in dialogues)
        print(
            f"{path}: {len(dialogues)} dialogues, {turns} turns, {path.stat().st_size / 1e6:.2f} MB"
        )


if __name__ == "__main__":
    main()
