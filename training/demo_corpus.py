"""The demo company's support history: seeded, synthetic Nimbus Home dialogues.

The demo intent classifier and response ranker are trained on these dialogues, and a held-out file
from another seed measures them. Everything here is our own writing about the fictional company in
`docs/demo-company.md`; nothing is copied from public data sets.

How a dialogue is built (all choices come from one `random.Random(seed)`):

1. a schedule fixes which label opens each dialogue: every label gets a floor of openings and the
   rest follows a realistic frequency mix (order status and offline devices common, account deletion
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

Facts the brief does not settle and that these replies assume (keep the knowledge base in line):
we ship to US addresses only; no signature is needed on delivery; reset links are valid for 1 hour;
Nimbus devices use 2.4 GHz Wi-Fi and a 15-second button press factory-resets them; Alexa and Google
Home work with every device, HomeKit with the Thermostat, Smart Plug and Hub; one Hub takes up to 50
Zigbee devices; the Thermostat runs 24V systems (not line-voltage baseboards) and ships with a
power adapter for homes without a C-wire; a Cam/Doorbell battery lasts 2–4 months; live view,
alerts and device controls need no plan; trials send a reminder 3 days before they end; started
subscription periods are not refunded; downgrades apply at the next renewal, upgrades at once;
promo codes can be applied up to 14 days after ordering; account deletion completes within 30
days; a handed-over email is answered within one business day; card numbers are never taken in
chat.

Example:
    >>> from training.demo_corpus import generate_dialogues
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

T = TypeVar("T")

# ---------------------------------------------------------------------------------------------
# Data types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Followup:
    """A customer follow-up question and the agent's answers to it."""

    asks: tuple[str, ...]  # customer phrasings
    answers: tuple[str, ...]  # agent reply variants
    intent: str | None = None  # label when the question expresses an intent on its own


@dataclass(frozen=True)
class Outcome:
    """One way a request ends: the agent's reply variants and what the customer may ask next."""

    replies: tuple[str, ...]  # agent reply variants (templates)
    weight: float = 1.0  # relative frequency among the intent's outcomes
    followups: tuple[Followup, ...] = ()  # follow-ups that make sense after this reply
    openers: tuple[str, ...] = ()  # opening phrasings that only fit this outcome
    terse: tuple[str, ...] = ()  # terse openings that only fit this outcome
    answers: tuple[str, ...] = ()  # customer detail answers that only fit this outcome
    resolved: bool = True  # False when the case stays open (investigation, claim pending)
    age: tuple[int, int] | None = None  # order age in days, when the outcome depends on it
    charge: str = "plan"  # what {amount} is: a "plan" price or an "order" total
    products: tuple[str, ...] = ()  # product keys, when only some of the intent's products fit


@dataclass(frozen=True)
class Intent:
    """Everything needed to write one intent's part of a dialogue."""

    name: str
    weight: float  # relative frequency as an opening request
    openers: tuple[str, ...]  # full-sentence request phrasings (templates)
    terse: tuple[str, ...]  # terse chat openings
    context: tuple[str, ...]  # background sentences for long messages
    outcomes: tuple[Outcome, ...]
    detail: str = "none"  # what the agent asks for: "order", "email", "custom" or "none"
    ask: tuple[str, ...] = ()  # agent questions for the detail
    answers: tuple[str, ...] = ()  # customer answers for a "custom" detail (no intent)
    products: tuple[str, ...] = ()  # product keys this intent is about ("" = any product)
    age: tuple[int, int] = (2, 9)  # default order age in days
    team: str = "support"  # team a handed-over case goes to
    given_by: str = ""  # slot that, when the opening mentions it, makes asking unnecessary
    topical: bool = False  # outcomes answer different questions; `openers` are the vague ones


# ---------------------------------------------------------------------------------------------
# Shared vocabulary
# ---------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Priya",
    "Marcus",
    "Elena",
    "Daniel",
    "Aisha",
    "Tom",
    "Sofia",
    "Kenji",
    "Grace",
    "Luis",
    "Hannah",
    "Omar",
    "Chloe",
    "Raj",
    "Megan",
    "Tariq",
    "Julia",
    "Noah",
    "Fatima",
    "Ben",
    "Mei",
    "Carlos",
    "Olivia",
    "Samir",
    "Emma",
    "Jamal",
    "Ava",
    "Diego",
    "Zoe",
    "Ethan",
    "Leila",
    "Ryan",
    "Ingrid",
    "Kwame",
    "Maya",
    "Patrick",
    "Yuki",
    "Nadia",
    "Chris",
    "Amara",
    "Lucas",
    "Rosa",
    "Ahmed",
    "Claire",
    "Ivan",
    "Tanya",
    "Jordan",
    "Beatriz",
    "Sean",
    "Lina",
    "Victor",
    "Hiro",
    "Sara",
    "Dev",
    "Alice",
    "Mateo",
    "Nora",
    "Sunil",
    "Kate",
    "Andre",
    "Jess",
    "Wei",
    "Paula",
    "Femi",
    "Laura",
    "Arjun",
    "Molly",
    "Tobias",
    "Rachel",
    "Emeka",
)
LAST_NAMES = (
    "Shah",
    "Miller",
    "Rossi",
    "Nguyen",
    "Okafor",
    "Kowalski",
    "Garcia",
    "Tanaka",
    "Brennan",
    "Haddad",
    "Larsen",
    "Patel",
    "Moreau",
    "Kim",
    "Osei",
    "Fischer",
    "Lopez",
    "Novak",
    "Reyes",
    "Walsh",
    "Chen",
    "Adeyemi",
    "Silva",
    "Dubois",
    "Murphy",
    "Ivanova",
    "Singh",
    "Costa",
    "Ward",
    "Yilmaz",
    "Hughes",
    "Park",
    "Mendes",
    "Clarke",
    "Sato",
    "Bauer",
    "Ortiz",
    "Kaur",
    "Hayes",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

# key -> (name the agent uses, names customers use)
PRODUCTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "thermostat": (
        "Nimbus Thermostat",
        ("thermostat", "Nimbus Thermostat", "T2 thermostat", "Nimbus T2", "smart thermostat", "T2"),
    ),
    "cam": (
        "Nimbus Cam",
        ("camera", "Nimbus Cam", "cam", "indoor camera", "indoor cam", "wired cam", "security cam"),
    ),
    "battery_cam": (
        "Nimbus Cam",
        ("battery cam", "battery camera", "Nimbus Cam", "cam", "camera", "wireless cam"),
    ),
    "doorbell": (
        "Nimbus Doorbell",
        ("doorbell", "Nimbus Doorbell", "video doorbell", "door bell", "smart doorbell"),
    ),
    "plug": ("Nimbus Smart Plug", ("smart plug", "Nimbus Smart Plug", "plug", "Nimbus plug")),
    "hub": ("Nimbus Hub", ("hub", "Nimbus Hub", "Zigbee hub", "Nimbus bridge", "hub thing")),
    "leak": (
        "Nimbus Leak Sensor",
        ("leak sensor", "Nimbus Leak Sensor", "water leak sensor", "leak detector", "water sensor"),
    ),
}
ANY_PRODUCT = ("thermostat", "cam", "cam", "doorbell", "plug", "hub", "leak", "thermostat")
WIFI_PRODUCTS = ("thermostat", "cam", "cam", "doorbell", "doorbell", "plug", "hub")

SETUP_HINTS = {
    "thermostat": "Turn off power to your heating system at the breaker before you remove the old "
    "thermostat, and put the wire labels from the box on each wire before disconnecting it.",
    "cam": "Plug the Cam in and keep it within about 15 feet of your router for the first setup; "
    "you can move it to its final spot afterwards.",
    "battery_cam": "Charge the battery fully first and keep the Cam near your router during setup; "
    "you can mount it once it shows online.",
    "doorbell": "If you're wiring it to your existing doorbell, switch the breaker off first; you "
    "can also pair it on battery before mounting it.",
    "plug": "Use an outlet near the router for the first setup; the light blinks when the plug is "
    "ready to pair.",
    "hub": "Connect the Hub to your router with the Ethernet cable from the box and power it on; "
    "Zigbee sensors are added through the Hub afterwards.",
    "leak": "Leak Sensors connect through the Nimbus Hub, so set up the Hub first, then pull the "
    "plastic battery tab on the sensor.",
}
PARTS = {
    "thermostat": ("backplate", "wire labels", "screws and wall anchors", "trim plate"),
    "cam": ("power adapter", "USB-C cable", "wall mount"),
    "battery_cam": ("charging cable", "wall mount", "battery"),
    "doorbell": ("mounting bracket", "wedge kit", "screws"),
    "plug": ("quick start card", "second plug from the 2-pack"),
    "hub": ("Ethernet cable", "power adapter"),
    "leak": ("batteries", "adhesive pad", "second sensor from the pack"),
}
ROOMS = (
    "living room",
    "hallway",
    "kitchen",
    "garage",
    "nursery",
    "basement",
    "front porch",
    "back door",
    "bedroom",
    "office",
    "laundry room",
    "upstairs landing",
    "driveway",
    "den",
)
RELATIVES = ("mom", "dad", "sister", "brother", "partner", "son", "daughter", "grandma", "friend")
STREETS = (
    "Alder Lane",
    "Maple Street",
    "Birch Road",
    "Harbor View Drive",
    "Cedar Court",
    "Elm Avenue",
    "Willow Way",
    "Oak Ridge Road",
    "Juniper Place",
    "Pine Hollow Lane",
    "Sycamore Street",
)
CITIES = (
    ("Springfield", "IL"),
    ("Riverton", "OR"),
    ("Fairview", "TX"),
    ("Madison", "WI"),
    ("Greenville", "NC"),
    ("Salem", "MA"),
    ("Franklin", "TN"),
    ("Clinton", "IA"),
    ("Arlington", "VA"),
)
CARRIERS = ("UPS", "USPS", "FedEx")
CARD_BRANDS = ("Visa", "Mastercard", "Amex", "Discover", "debit card")
PHONES = (
    "iPhone 15",
    "iPhone 13",
    "iPhone 12 mini",
    "Pixel 8",
    "Pixel 6a",
    "Galaxy S23",
    "Galaxy A54",
    "OnePlus 11",
    "iPad",
    "Moto G",
    "iPhone SE",
)
PROMO_CODES = (
    "WELCOME10",
    "SPRING15",
    "NIMBUS20",
    "HOLIDAY25",
    "FRIENDS10",
    "WARMHOME",
    "NEWHOME15",
    "CAMDEAL",
)
# Subscription plans from the brief: (plan, billing, price)
PLAN_PRICES = (
    ("Nimbus Plus", "monthly", "$4.99"),
    ("Nimbus Plus", "yearly", "$49"),
    ("Nimbus Plus Pro", "monthly", "$12.99"),
    ("Nimbus Plus Pro", "yearly", "$129"),
)
TEAMS = {"orders": "orders", "billing": "billing", "tech": "technical", "account": "accounts"}

SMALL_TALK = (
    "Hi there, hope you're well.",
    "Hello! Hope your day is going well.",
    "Hey, quick question.",
    "Hi, I hope you can help me.",
    "Good morning!",
    "Hi! Long-time customer here.",
    "Hello, first time using this chat.",
    "Hey there :)",
    "Hi, hope you're having a good day.",
    "Hello, I hope this is the right place.",
    "Hi team,",
    "Evening!",
    "Hi, sorry to bother you.",
    "Hey! Happy Friday.",
    "Hello there, hope all is well.",
    "Hi, thanks for being here.",
)
HELLO = (
    "Hi, ",
    "Hello, ",
    "Hey, ",
    "Hi there, ",
    "Hi! ",
    "Hello! ",
    "Good morning. ",
    "Hey there! ",
    "Hiya, ",
    "Hello — ",
    "Hi again. ",
    "Hey. ",
)
FRUSTRATION = (
    "This is really frustrating.",
    "Honestly getting fed up with this.",
    "This is the third time I'm contacting you about this.",
    "Not impressed, to be honest.",
    "Please sort this out asap.",
    "I've been a customer for years and this is disappointing.",
    "I'm losing my patience here.",
    "Seriously, this shouldn't be this hard.",
    "Really not happy about this.",
    "Can someone actually fix this please?",
)
POLITE = (
    "Thanks!",
    "Thanks in advance.",
    "Appreciate the help.",
    "Cheers.",
    "Thank you!",
    "Any help appreciated.",
    "Thanks so much.",
    "Many thanks.",
)
EMPATHY = (
    "I'm really sorry for the hassle, {name}.",
    "I understand how frustrating this is, and I'm sorry.",
    "Sorry for all the trouble, {name}. Let's get this sorted.",
    "I hear you, {name}. I'm sorry this has taken so much of your time.",
)
SWITCH_PREFIX = (
    "Also, ",
    "While I have you — ",
    "One more thing: ",
    "Oh and ",
    "Actually, another question. ",
    "Unrelated, but ",
    "Another thing while I'm here: ",
    "btw ",
)

# ---------------------------------------------------------------------------------------------
# Details the agent asks for
# ---------------------------------------------------------------------------------------------

ORDER_ASK = (
    "Happy to check, {name}! What's the order number? It starts with NH- and is in your "
    "confirmation email.",
    "Sure, let me look that up. Could you share the order number (it starts with NH-)?",
    "Of course, {name}. Which order is it? The number starts with NH-.",
    "I can help with that. What's the order number, please?",
    "Thanks for reaching out, {name}. Can you give me the order number so I can pull it up?",
)
ORDER_ASK_SORRY = (
    "I'm sorry to hear that, {name}. Could you share the order number so I can take a look?",
    "Oh no, sorry about that! What's the order number? It starts with NH-.",
    "Sorry about this, {name}. Let's sort it out — what's the order number?",
    "That's not the experience we want you to have, {name}. Which order is it (NH-...)?",
)
EMAIL_ASK = (
    "Happy to help, {name}. For security, can you confirm the email address on your account?",
    "Sure thing! What's the email address you use to sign in?",
    "I can help with that. Which email address is the account under?",
    "Of course, {name}. First, could you confirm the email on the account?",
)
ORDER_ANSWERS = (
    "{order}",
    "It's {order}.",
    "order number is {order}",
    "{order} — I placed it {ago}",
    "Sure: {order}",
    "yes it's {order}",
    "Here you go: {order}",
    "I think it's {order}",
    "{order}, ordered under {email}",
    "It's {order}, thanks.",
    "Order {order}.",
    "ok, {order}",
    "The confirmation says {order}.",
    "{order} I believe",
)
NO_ORDER = (
    "I don't have the order number handy, sorry.",
    "hmm, I can't find the confirmation email",
    "No idea, I think I deleted the email.",
    "I don't know it. Can you look it up another way?",
    "not sure where to find that tbh",
)
NO_ORDER_ASK = (
    "No problem! What's the email address on your account? I can find the order from there.",
    "That's fine, {name}. Which email did you order with? I'll look it up.",
    "No worries — the email address on the account works too.",
)
EMAIL_ANSWERS = (
    "{email}",
    "it's {email}",
    "{email} I think",
    "should be {email}",
    "The account is under {email}.",
    "Sure, {email}",
    "{email} (that's my main one)",
    "It's {email}, thanks.",
    "my email is {email}",
)
FOUND_ORDER = ("I found it: order {order}. ", "Got it — that's order {order}. ", "Thanks! ")

# ---------------------------------------------------------------------------------------------
# Intents: orders, shipping and returns
# ---------------------------------------------------------------------------------------------

REFUND_TIME = Followup(
    asks=(
        "How long does the refund take?",
        "when do I get my money back?",
        "And the refund goes back to my card?",
        "how long until the money is back on my card?",
        "Will I get the full amount back?",
    ),
    answers=(
        "The full amount goes back to your original payment method; it takes 5–10 business "
        "days to show up, depending on your bank.",
        "Refunds go to the card you paid with and usually appear within 5–10 business days. "
        "You'll get an email from us the moment it's issued.",
        "You'll get the full amount back on your original payment method — allow 5–10 business "
        "days for your bank to post it.",
    ),
    intent="refund_status",
)
EXPRESS_INFO = Followup(
    asks=(
        "Can I get it any faster?",
        "is there a way to speed it up?",
        "How much is express shipping for next time?",
        "can I upgrade to express?",
    ),
    answers=(
        "Once an order has shipped we can't change its speed, I'm afraid. For future orders, "
        "express delivery takes 1–2 business days and costs $12.95.",
        "Not for this one, since it's already with the carrier. Next time you can pick express at "
        "checkout: $12.95 for delivery in 1–2 business days.",
        "The speed is fixed once it ships. Express is available at checkout for $12.95 and arrives "
        "in 1–2 business days.",
    ),
    intent="shipping_options",
)

ORDERS: tuple[Intent, ...] = (
    Intent(
        name="order_status",
        weight=10,
        detail="order",
        ask=ORDER_ASK,
        products=ANY_PRODUCT,
        team="orders",
        openers=(
            "Where is my order?",
            "I ordered {a_product} {ago} and still haven't received it.",
            "Can you check the status of my order?",
            "My order hasn't arrived yet. Any idea when it will?",
            "I haven't had a shipping confirmation for my {product} yet. Is it on its way?",
            "How do I track my order?",
            "When will my {product} arrive? I ordered it {ago}.",
            "Has my order shipped yet?",
            "Is there a tracking link for my {product} order?",
            "Just checking on my order, I thought it would be here by now.",
            "Can you tell me where order {order} is?",
            "Any update on {order}?",
            "What's the status of order {order}?",
            "Could you let me know when order {order} will be delivered?",
            "I'm waiting on {a_product} I bought {ago}. Where is it?",
            "Can I get an ETA on my {product}?",
            "My {product} order, has it left the warehouse?",
            "I didn't get a tracking number for my order.",
            "When can I expect my delivery?",
        ),
        terse=(
            "where is my order",
            "order status?",
            "wheres my stuff",
            "tracking??",
            "any update on my order",
            "has it shipped?",
            "my package??",
            "order {order}?",
            "eta on my {product}?",
            "status of {order} pls",
        ),
        context=(
            "I ordered {a_product} as a gift for my {relative} and the birthday is this weekend.",
            "I bought {a_product} {ago}.",
            "We're moving house soon, so I want to make sure it arrives before then.",
            "I got the order confirmation email but nothing since.",
            "I've been waiting for my {product} for a while now.",
            "I need it installed before I travel next week.",
            "My {relative} is coming over to help me set it up on {weekday}.",
        ),
        outcomes=(
            Outcome(
                weight=5,
                age=(2, 5),
                replies=(
                    "Thanks, {name}! Order {order} shipped on {ship_date} with {ship_method} and "
                    "is on its way. It should arrive by {eta}. You can follow it at "
                    "track.nimbushome.example/{order}.",
                    "Good news: order {order} left our warehouse on {ship_date} ({ship_method}). "
                    "The carrier expects to deliver it by {eta}.",
                    "I've checked order {order}, {name}. It shipped on {ship_date} with "
                    "{carrier} and is in transit — estimated delivery is {eta}. The tracking link "
                    "is in your shipping email, or at track.nimbushome.example/{order}.",
                    "Order {order} is on its way! It went out on {ship_date} by {ship_method}, so "
                    "you should have it by {eta}.",
                ),
                followups=(
                    EXPRESS_INFO,
                    Followup(
                        asks=(
                            "What if it doesn't show up by then?",
                            "and if it doesn't come?",
                            "ok and what happens if it's late?",
                        ),
                        answers=(
                            "If it hasn't arrived by {eta}, message us with the order number and "
                            "we'll open a carrier investigation straight away, then send a "
                            "replacement or refund if it's lost.",
                            "Just let us know if it's not there by {eta} — we'll chase the "
                            "carrier and, if it's lost, ship a replacement or refund you.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Do I need to be home to sign for it?",
                            "will they need a signature?",
                            "Can they leave it at the door?",
                        ),
                        answers=(
                            "No signature is needed — {carrier} will leave it at your door or in "
                            "your mailbox.",
                            "Nope, no signature required. It'll be left at your door, and you'll "
                            "get a delivery email when it's dropped off.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=2,
                age=(0, 1),
                replies=(
                    "Order {order} is packed and will ship by {ship_date}, {name}. Standard "
                    "shipping takes 3–5 business days, so expect it around {eta}. You'll get a "
                    "tracking email as soon as it leaves our warehouse.",
                    "I can see order {order} is being prepared right now. It ships on "
                    "{ship_date} and should reach you by {eta}; the tracking link will follow by "
                    "email.",
                    "Thanks, {name}. Order {order} hasn't shipped yet but it's scheduled to go "
                    "out on {ship_date}. With standard shipping (3–5 business days) that means "
                    "delivery around {eta}.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I still cancel it?",
                            "ok can I still cancel if I want to?",
                            "Is it too late to cancel it then?",
                        ),
                        answers=(
                            "Yes — until it ships you can cancel it under Orders in your account, "
                            "or just tell us here, and you'll get a full refund.",
                            "You can, as long as it hasn't shipped. Cancel it from Orders at "
                            "account.nimbushome.example or ask us here.",
                        ),
                        intent="cancel_order",
                    ),
                    Followup(
                        asks=(
                            "Can I still change the delivery address?",
                            "could I change where it ships to?",
                        ),
                        answers=(
                            "Yes, as long as it hasn't shipped. Send me the new address and I'll "
                            "update order {order}.",
                            "You can — the address can be changed until it leaves our "
                            "warehouse. Just reply with the new address.",
                        ),
                        intent="change_address",
                    ),
                ),
            ),
            Outcome(
                weight=1,
                age=(6, 10),
                resolved=False,
                replies=(
                    "I'm sorry, {name}. Order {order} shipped on {ship_date} but the carrier "
                    "shows a delay at their depot. The new estimate is {eta}. I've opened ticket "
                    "{ticket} to keep an eye on it, and if it isn't with you by then we'll send a "
                    "replacement or refund.",
                    "Thanks for your patience, {name}. Order {order} is delayed in the {carrier} "
                    "network; their updated delivery date is {eta}. I've flagged it under ticket "
                    "{ticket} so our orders team follows up with them.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "This is really annoying, I needed it this week.",
                            "ugh. I paid for this already, why is it taking so long?",
                        ),
                        answers=(
                            "I completely understand, and I'm sorry. The delay is on the "
                            "carrier's side, but we're tracking it under ticket {ticket}. If it "
                            "misses {eta}, we'll ship a replacement by express at no cost.",
                            "That's fair, and I'm sorry it's late. If it isn't there by {eta}, "
                            "reply to this chat and we'll send a new one by express right away.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="cancel_order",
        weight=4,
        detail="order",
        ask=ORDER_ASK,
        products=ANY_PRODUCT,
        team="orders",
        age=(0, 1),
        openers=(
            "I need to cancel my order.",
            "Can I cancel the {product} I ordered {ago}?",
            "I ordered the wrong thing, please cancel it.",
            "Please cancel order {order}.",
            "Is it too late to cancel my order?",
            "I'd like to cancel my order before it ships.",
            "I changed my mind about the {product}. How do I cancel?",
            "I placed a duplicate order by mistake, can you cancel {order}?",
            "How do I cancel an order I just placed?",
            "Can you stop my order from shipping?",
            "I want to cancel {order}, I don't need it anymore.",
            "Please cancel my {product} order, I found one locally.",
        ),
        terse=(
            "cancel my order pls",
            "cancel order",
            "need to cancel an order",
            "can i still cancel??",
            "cancel {order}",
            "how to cancel order",
        ),
        context=(
            "My partner already bought one.",
            "I ordered it in a hurry last night.",
            "Turns out my landlord won't let me install {a_product}.",
            "I picked the wrong model.",
            "We've decided to wait until after the move.",
            "Money is a bit tight this month.",
        ),
        outcomes=(
            Outcome(
                weight=4,
                replies=(
                    "Done, {name}! Order {order} hadn't shipped yet, so I've cancelled it. "
                    "You'll get a confirmation email, and the refund goes back to your original "
                    "payment method within 5–10 business days.",
                    "No problem. Order {order} is cancelled; nothing will ship. Your refund is "
                    "on its way to the original payment method and takes 5–10 business days to "
                    "appear.",
                    "I've cancelled order {order} for you, {name}. A confirmation is on its way "
                    "to {email}, and the refund will reach your card in 5–10 business days.",
                    "All sorted: order {order} was still being prepared, so I could cancel it. "
                    "Expect the refund on your original payment method within 5–10 business "
                    "days.",
                ),
                followups=(REFUND_TIME,),
            ),
            Outcome(
                weight=2,
                age=(2, 4),
                replies=(
                    "I'm sorry, {name}. Order {order} already shipped on {ship_date}, so I can't "
                    "cancel it anymore. Once it arrives you can return it within 30 days — the "
                    "return label is free, and I can email it whenever you're ready.",
                    "Unfortunately order {order} left our warehouse on {ship_date}, so it can't "
                    "be cancelled. You can send it back for a full refund within 30 days of "
                    "delivery using a free return label.",
                    "Order {order} is already with {carrier} (it shipped {ship_date}), so "
                    "cancelling isn't possible now. The easiest option is a return once it "
                    "arrives: it's free within 30 days, and refunds take 5–10 business days.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "ugh ok, how do I get the return label?",
                            "Fine. How do I return it when it comes?",
                            "So how does the return work then?",
                        ),
                        answers=(
                            "Once it arrives, go to Orders > {order} > Return item at "
                            "account.nimbushome.example, or message us here — the free label is "
                            "emailed to {email} right away.",
                            "When it arrives, just reply here or start the return under Orders "
                            "in your account. We'll email a prepaid label to {email}.",
                        ),
                        intent="start_return",
                    ),
                    Followup(
                        asks=(
                            "Can I just refuse the delivery?",
                            "what if I refuse the package?",
                        ),
                        answers=(
                            "You can — it will come back to us, and we refund the order once our "
                            "warehouse receives it. The refund then takes 5–10 business days.",
                            "Yes, refusing it works too. When it's back at our warehouse we issue "
                            "the refund, which takes 5–10 business days to reach your card.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="change_address",
        weight=2,
        detail="custom",
        ask=(
            "Sure, {name}! What's the order number, and the full new address?",
            "I can update that if it hasn't shipped yet. Which order is it, and what's the new "
            "address?",
            "Happy to help. Please send the order number (NH-...) and the address you'd like it "
            "to go to.",
            "Let's fix that. Can you give me the order number and the correct address?",
        ),
        answers=(
            "{order}, new address is {address}",
            "It's {order}. Please send it to {address}.",
            "order {order} — should go to {address}",
            "{order}\n{address}",
            "Sure, {order}. The right address is {address}.",
            "{address}, order {order}",
        ),
        products=ANY_PRODUCT,
        team="orders",
        age=(0, 1),
        openers=(
            "I need to change the delivery address on my order.",
            "I put the wrong address on order {order}, can I fix it?",
            "Can you ship my {product} to my work address instead?",
            "I'm moving next week. Can the order go to my new place?",
            "I made a typo in the shipping address, the apartment number is wrong.",
            "Can I update the shipping address after ordering?",
            "My order is going to my old address, please help!",
            "Is it possible to redirect my order to a different address?",
            "How do I change where my {product} is being delivered?",
            "The zip code on my order is wrong, can you correct it?",
        ),
        terse=(
            "change address",
            "wrong address on my order!!",
            "need to update shipping address",
            "can i change the address?",
            "change delivery address pls",
        ),
        context=(
            "I just realised my account still had my old address saved.",
            "I'm staying with my parents for the next two weeks.",
            "My building's mailroom keeps losing packages.",
            "I ordered it from my phone in a rush.",
            "We close on the new house on {weekday}.",
        ),
        outcomes=(
            Outcome(
                weight=4,
                replies=(
                    "All set, {name}! Order {order} will now ship to {address}. It hadn't left "
                    "our warehouse yet, so the change made it in time, and you'll get an updated "
                    "confirmation by email.",
                    "Done — I've updated the shipping address on order {order} to {address}. "
                    "Everything else stays the same.",
                    "Thanks! Order {order} is still being prepared, so I've changed the address "
                    "to {address}. You'll see it in the confirmation we just emailed you.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Will that delay the delivery?",
                            "does that push the delivery back?",
                            "will it still arrive on time?",
                        ),
                        answers=(
                            "No, it ships on the same schedule — standard delivery takes 3–5 "
                            "business days after dispatch, so expect it around {eta}.",
                            "Not at all. It's still due to ship on {ship_date} and arrive around "
                            "{eta}.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Can I switch it to express as well?",
                            "could I upgrade it to express shipping while you're at it?",
                        ),
                        answers=(
                            "Yes: express is $12.95 and arrives 1–2 business days after it ships. "
                            "You can upgrade it from Orders > {order} in your account until it "
                            "leaves the warehouse.",
                            "Sure — express costs $12.95 and takes 1–2 business days. Upgrade it "
                            "under Orders > {order} before it ships and it'll go out express.",
                        ),
                        intent="shipping_options",
                    ),
                ),
            ),
            Outcome(
                weight=1,
                age=(2, 3),
                resolved=False,
                replies=(
                    "I'm sorry, {name}. Order {order} already shipped on {ship_date}, so I "
                    "can't change the address on our side. You can ask {carrier} to redirect it "
                    "from the tracking page (track.nimbushome.example/{order}); if it comes back "
                    "to us instead, we'll reship it to {address} for free.",
                    "Order {order} left our warehouse on {ship_date}, so the address is locked "
                    "now. The carrier can usually redirect parcels from the tracking page; if "
                    "that doesn't work and it's returned to us, we'll send it on to {address} at "
                    "no cost.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "What if the carrier won't redirect it?",
                            "and if that doesn't work?",
                        ),
                        answers=(
                            "Then it will come back to our warehouse as undeliverable, and we'll "
                            "reship it to {address} as soon as it arrives — no extra charge.",
                            "No problem: once it's returned to us we reship it to {address} for "
                            "free. I've noted the new address on the order.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="shipping_options",
        weight=3,
        products=ANY_PRODUCT,
        team="orders",
        topical=True,
        openers=(
            "I have a question about shipping.",
            "Quick question about delivery.",
            "Can you help me with a shipping question before I order?",
        ),
        terse=("shipping question", "question about delivery"),
        context=(
            "I'm thinking of getting {a_product} for my {relative}.",
            "I need it before we leave on vacation.",
            "My cart is at about $40 right now.",
            "I'm comparing a few brands before I buy.",
            "I'm about to place my first order.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                openers=(
                    "What are my delivery options if I order {a_product} today?",
                    "How long does standard delivery take?",
                    "Do you offer next-day delivery?",
                    "How fast can you get {a_product} to me?",
                    "What shipping options do you have?",
                    "Can I get {a_product} by {weekday}?",
                    "How much does shipping cost?",
                    "How much is express shipping?",
                    "What's the fastest delivery you offer?",
                ),
                terse=(
                    "shipping cost?",
                    "how long is delivery",
                    "delivery options?",
                    "express shipping price?",
                    "shipping times?",
                ),
                replies=(
                    "Great question, {name}! Standard shipping takes 3–5 business days and is free "
                    "on orders over $50. Express takes 1–2 business days and costs $12.95.",
                    "We have two options: standard (3–5 business days, free over $50) and express "
                    "(1–2 business days, $12.95). Express ordered today would arrive around "
                    "{express_eta}.",
                    "Standard delivery is 3–5 business days — free when your order is over $50. If "
                    "you're in a hurry, express gets it to you in 1–2 business days for $12.95.",
                    "You can choose standard shipping (free over $50, 3–5 business days) or "
                    "express for $12.95 (1–2 business days). Both include tracking.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "If I order now with express, when would it arrive?",
                            "so express would get here when?",
                        ),
                        answers=(
                            "Express takes 1–2 business days once it ships, so an order placed "
                            "today would typically arrive by {express_eta}.",
                            "With express you'd most likely have it by {express_eta}.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "And what if it's not what I want, can I return it?",
                            "what's the return policy if I don't like it?",
                        ),
                        answers=(
                            "Yes — you have 30 days to return unused or defective items, and the "
                            "return label is free. Refunds take 5–10 business days.",
                            "Of course. Returns are free within 30 days for unused or defective "
                            "items; you get your money back in 5–10 business days.",
                        ),
                        intent="start_return",
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "Do you ship to Canada?",
                    "Do you ship internationally? I'm in the UK.",
                    "Can I order from Germany?",
                    "Do you deliver to Mexico?",
                    "I live in Australia, can I buy {a_product} from you?",
                    "Is international shipping available?",
                ),
                terse=("do u ship to canada", "international shipping?", "ship to UK?"),
                replies=(
                    "Thanks for asking, {name}! At the moment we only ship to US addresses, so we "
                    "can't deliver abroad yet. Within the US, standard shipping is free over $50 "
                    "(3–5 business days) and express is $12.95 (1–2 business days).",
                    "I'm sorry — right now we ship within the US only. We hope to add more "
                    "countries, and we'll announce it on our site when we do.",
                    "Unfortunately we don't ship internationally yet; orders need a US delivery "
                    "address. Sorry about that!",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Would the devices work outside the US if I bought them there?",
                            "if a friend brings one over, will it work here?",
                        ),
                        answers=(
                            "The devices work on any 2.4 GHz Wi-Fi network and the app is "
                            "available worldwide, but we can only offer warranty service and "
                            "returns for US addresses.",
                            "They'll connect to Wi-Fi anywhere, but warranty service and returns "
                            "are only available within the US, so please keep that in mind.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "Is shipping free?",
                    "Is there free shipping on orders over a certain amount?",
                    "How much do I need to spend for free shipping?",
                    "Do I get free shipping if I buy {a_product}?",
                ),
                terse=("free shipping?", "free delivery??", "minimum for free shipping?"),
                replies=(
                    "Yes! Standard shipping (3–5 business days) is free on orders over $50. Below "
                    "that, or if you want express (1–2 business days), it's $12.95.",
                    "Standard shipping is free for orders over $50 and arrives in 3–5 business "
                    "days. Express delivery is $12.95 and takes 1–2 business days.",
                    "Free standard shipping kicks in at $50, {name}. Delivery takes 3–5 business "
                    "days; express is $12.95 for 1–2 business days.",
                ),
            ),
        ),
    ),
    Intent(
        name="missing_package",
        weight=3,
        detail="order",
        ask=ORDER_ASK_SORRY,
        products=ANY_PRODUCT,
        team="orders",
        age=(5, 10),
        openers=(
            "Tracking says my package was delivered but it's not here.",
            "My order {order} shows delivered but I never got it.",
            "I think my parcel got lost, it hasn't moved in a week.",
            "The carrier says it was delivered yesterday but there's nothing at my door.",
            "My {product} was marked as delivered but I've checked everywhere.",
            "I think someone stole my package.",
            "Tracking shows a delivery photo of a door that isn't mine.",
            "The app says my order was delivered, but I don't have it.",
            "My parcel seems to be lost, tracking hasn't updated since last {weekday}.",
            "Order {order} says delivered, but I was home and nobody came.",
        ),
        terse=(
            "package says delivered but not here",
            "never got my package",
            "lost package",
            "delivered?? where",
            "parcel missing",
            "says delivered. it isnt",
        ),
        context=(
            "I was home all day and no one came to the door.",
            "I checked with my neighbours and the front desk.",
            "I live in an apartment building and the mailroom doesn't have it.",
            "I've looked behind the bins and in the garage.",
            "We have a {product} watching the porch and it shows nobody.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                replies=(
                    "Thanks, {name}. Order {order} was marked delivered on {delivered_date}. "
                    "Carriers sometimes scan a parcel as delivered a day early, so it may still "
                    "turn up. If it hasn't arrived by {check_date}, reply here and we'll ship a "
                    "free replacement by express.",
                    "I can see {carrier} marked order {order} as delivered on {delivered_date}. "
                    "Could you check with neighbours and any safe places? If it's still missing "
                    "by {check_date}, we'll send a replacement at no cost.",
                    "I'm sorry about this, {name}. The scan for order {order} says delivered on "
                    "{delivered_date}. Parcels marked early usually show up within 48 hours; if "
                    "yours doesn't by {check_date}, just message us and we'll replace it.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Do I need to file a police report?",
                            "should I report it as stolen?",
                        ),
                        answers=(
                            "No, that's not needed — we handle the claim with the carrier "
                            "directly.",
                            "There's no need; we take care of the claim with {carrier} ourselves.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Can't you just send a new one now?",
                            "why do I have to wait?",
                        ),
                        answers=(
                            "I understand. Carriers need 48 hours to locate a parcel marked "
                            "delivered, and most turn up in that time. If it doesn't, the "
                            "replacement ships by express the same day you tell us.",
                            "Most early-scanned parcels arrive within 48 hours, so we wait that "
                            "long first. If it's still missing on {check_date}, the replacement "
                            "goes out by express straight away.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=2,
                resolved=False,
                replies=(
                    "I'm sorry, {name}. I've opened a carrier investigation (ticket {ticket}) and "
                    "sent a free replacement for order {order} by express — it should arrive by "
                    "{replacement_eta}.",
                    "That's not okay, and I'm sorry. I've filed a claim with {carrier} under "
                    "ticket {ticket} and shipped a replacement for order {order} by express; "
                    "expect it by {replacement_eta}.",
                    "Thanks, {name}. Since order {order} was marked delivered on "
                    "{delivered_date} and hasn't turned up, I've sent a replacement by express "
                    "(arriving by {replacement_eta}) and opened ticket {ticket} with the carrier.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "What if the original shows up later?",
                            "and if the first one turns up after all?",
                        ),
                        answers=(
                            "Just let us know and we'll email you a free return label for it — "
                            "no rush.",
                            "If it turns up, reply to ticket {ticket} and we'll send a prepaid "
                            "label so you can send the extra one back.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="damaged_item",
        weight=3,
        detail="order",
        ask=(
            "I'm so sorry, {name}! Could you share the order number, and a photo of the damage if "
            "you have one?",
            "Oh no, that's not how it should arrive. What's the order number?",
            "Sorry about that! Which order was it (NH-...)? I'll get it sorted.",
            "That's disappointing, I'm sorry. Can you give me the order number?",
        ),
        products=ANY_PRODUCT,
        team="orders",
        age=(4, 12),
        openers=(
            "My {product} arrived broken.",
            "The box was crushed and the {product} is cracked.",
            "My order arrived with missing parts — there's no {part} in the box.",
            "The {product} I received doesn't turn on out of the box.",
            "I got my {product} today and it's damaged.",
            "Part of my order is missing: the {part} isn't in the box.",
            "Received my order but the {product} has a big scratch and the case is loose.",
            "The {product} came with a cracked front and it rattles.",
            "My new {product} is dead on arrival.",
            "There's no {part} with my {product}.",
        ),
        terse=(
            "item arrived broken",
            "it came damaged",
            "missing parts in box",
            "{product} arrived cracked",
            "broken on arrival",
            "no {part} in the box??",
        ),
        context=(
            "I was really looking forward to setting it up this weekend.",
            "The outer box had a big dent in it.",
            "It was a gift, so this is a bit embarrassing.",
            "I opened it carefully and it was like this already.",
            "I've got photos of the box.",
        ),
        outcomes=(
            Outcome(
                weight=4,
                replies=(
                    "Thank you, {name}. Sorry again about this. I've sent a brand-new, complete "
                    "{device} for order {order} by express; it should arrive by {replacement_eta}. "
                    "A prepaid "
                    "return label for the damaged one is on its way to {email} — please send it "
                    "back within 30 days.",
                    "I've arranged a free replacement {device} for order {order}, shipped express "
                    "(arriving by {replacement_eta}). You'll get a return label by email for the "
                    "one you "
                    "received.",
                    "Sorry about that, {name}. A replacement {device} is on its way by express — "
                    "expect it by {replacement_eta}. Use the free label we've emailed to {email} "
                    "to send the "
                    "damaged unit back within 30 days.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Do I have to send the broken one back first?",
                            "do I need to return it before you send the new one?",
                        ),
                        answers=(
                            "No, the replacement ships right away. Just send the damaged one "
                            "back within 30 days with the free label.",
                            "Not at all — the new one is already on its way. Send the old one "
                            "back whenever suits you in the next 30 days.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "How long will the replacement take?",
                            "when will the new one come?",
                        ),
                        answers=(
                            "It ships by express, which takes 1–2 business days — you should "
                            "have it by {replacement_eta}.",
                            "It's going express, so expect it by {replacement_eta}. The tracking "
                            "link will be "
                            "emailed to {email}.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                replies=(
                    "I'm sorry, {name}. I've emailed a free return label to {email} for the "
                    "damaged {device}. Once the carrier scans it, we'll refund order {order} in "
                    "full — refunds take 5–10 business days. If you'd rather have a replacement, "
                    "just say so.",
                    "Thanks. I can refund order {order} in full: use the prepaid label sent to "
                    "{email}, and the refund goes out as soon as the parcel is scanned, reaching "
                    "your card in 5–10 business days. A replacement is also an option if you "
                    "prefer.",
                ),
                followups=(REFUND_TIME,),
            ),
        ),
    ),
    Intent(
        name="start_return",
        weight=5,
        detail="custom",
        ask=(
            "Sure, {name}! What's the order number? And is the item unused, or is something wrong "
            "with it?",
            "Happy to help with a return. Which order is it, and what's the reason for returning?",
            "No problem. Could you share the order number and let me know if the item is unused "
            "or faulty?",
            "Of course. What's the order number (NH-...)? And is it unopened, used, or defective?",
        ),
        answers=(
            "{order}, it's unused",
            "It's {order} — still in the box.",
            "{order}. it's unopened",
            "{order}, it works fine, I just don't need it",
            "order {order}, never opened it",
            "{order} — I tried it once but it's not for us",
            "{order}, it's faulty",
            "It's {order}. It doesn't work with our setup.",
        ),
        products=ANY_PRODUCT,
        team="orders",
        age=(5, 25),
        openers=(
            "I'd like to return my {product}.",
            "How do I return an item?",
            "Can I get a return label for order {order}?",
            "The {product} doesn't work with my setup, I want to send it back.",
            "I want to return the {product}, it's unopened.",
            "What's your return policy? I'd like to send back {a_product}.",
            "I bought {a_product} {ago} and it's not for me. Can I return it?",
            "Can I return something I got as a gift?",
            "I need to return {order}.",
            "How do I send back the {product}?",
            "I'd like a refund for the {product}, please.",
            "Can I still return my {product}? I bought it {ago}.",
        ),
        terse=(
            "return label pls",
            "how do i return this",
            "want to return my {product}",
            "return {order}",
            "return policy?",
            "need a return label",
        ),
        context=(
            "It's still in the original box.",
            "My {relative} already has one.",
            "It doesn't really suit our house.",
            "I bought it on impulse.",
            "We're renting and the landlord said no.",
            "I ended up going with a different system.",
        ),
        outcomes=(
            Outcome(
                weight=5,
                replies=(
                    "Thanks! Order {order} is within the 30-day return window, so I've emailed a "
                    "free return label to {email}. Pack the {device} with its accessories, drop "
                    "it off with {carrier}, and we'll refund you once it reaches us.",
                    "All set, {name}. A prepaid return label for order {order} is on its way to "
                    "{email}. Once the parcel arrives at our warehouse, the refund goes to your "
                    "original payment method within 5–10 business days.",
                    "Done! I've started the return for order {order} and sent the free label to "
                    "{email}. You have 30 days from delivery to send it back.",
                    "No problem, {name}. Order {order} qualifies for our 30-day return policy; "
                    "the free label is in your inbox ({email}). Refunds take 5–10 business days "
                    "after we receive the item.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Do I need the original box?",
                            "what if I threw away the packaging?",
                            "does it have to be in the original packaging?",
                        ),
                        answers=(
                            "The original box is nice but not required — any sturdy box works, as "
                            "long as everything is well padded and the accessories are included.",
                            "No need for the original packaging; just use a sturdy box and "
                            "include the accessories.",
                        ),
                    ),
                    REFUND_TIME,
                    Followup(
                        asks=(
                            "Where do I drop it off?",
                            "do I need to book a pickup?",
                            "which carrier do I use?",
                        ),
                        answers=(
                            "Any {carrier} drop-off location works — the label is prepaid, so "
                            "just hand the parcel over.",
                            "Take it to any {carrier} location; no booking needed. Keep the "
                            "receipt they give you until the refund arrives.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                age=(40, 90),
                resolved=False,
                replies=(
                    "Thanks, {name}. I've checked order {order}: it was delivered on "
                    "{delivered_date}, "
                    "which is outside our 30-day return window, so I can't issue a return label. "
                    "If the {device} develops a fault, though, it's covered by the 2-year limited "
                    "warranty.",
                    "I'm sorry, {name}. Order {order} arrived on {delivered_date}, more than 30 "
                    "days ago, so it's past the return window. Faults are still covered by our "
                    "2-year limited warranty, and we'd replace the {device} in that case.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can you make an exception?",
                            "it's only a few days over, really?",
                            "Seriously? Can't you make an exception just this once?",
                        ),
                        answers=(
                            "I understand, and I'm sorry. The 30-day window applies to all "
                            "returns, so I can't override it. If anything's wrong with the "
                            "{device}, though, we'll replace it under warranty.",
                            "I wish I could. The window is firm for unused items, but if the "
                            "device isn't working properly, a warranty replacement is absolutely "
                            "possible.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="refund_status",
        weight=4,
        detail="order",
        ask=ORDER_ASK,
        products=ANY_PRODUCT,
        team="billing",
        age=(14, 28),
        openers=(
            "Where is my refund?",
            "I returned my {product} {ago} and haven't seen the refund.",
            "When will I get my money back for order {order}?",
            "My refund still hasn't shown up on my card.",
            "You said I'd get a refund, but nothing yet.",
            "How long do refunds take?",
            "I cancelled an order and I'm still waiting for the money.",
            "Has my refund for {order} been processed?",
            "I'm still waiting on a refund.",
            "Can you check on my refund please?",
            "The return was delivered to you, so where's my refund?",
        ),
        terse=(
            "refund??",
            "where's my refund",
            "still no refund",
            "refund status",
            "when do i get my money back",
            "refund for {order}?",
        ),
        context=(
            "I sent the return back with the label you emailed.",
            "The carrier shows the return was delivered to you last week.",
            "I'm a bit tight on money this month, so I need it.",
            "I checked my bank statement this morning.",
            "I got an email saying the return was received.",
        ),
        outcomes=(
            Outcome(
                weight=4,
                replies=(
                    "Thanks, {name}. The refund for order {order} was issued on {refund_date} to "
                    "your original payment method. Banks take 5–10 business days to show it, so "
                    "it should appear by {refund_eta}.",
                    "I can see the refund for order {order} went out on {refund_date}. It "
                    "usually appears on your statement within 5–10 business days — by "
                    "{refund_eta} at the latest.",
                    "Good news: your refund for order {order} has been processed (on "
                    "{refund_date}). Depending on your bank it takes 5–10 business days, so "
                    "you'll see it by {refund_eta}.",
                    "The refund for order {order} was sent back to your card on {refund_date}, "
                    "{name}. Allow 5–10 business days for your bank to post it (by "
                    "{refund_eta}).",
                ),
                followups=(
                    Followup(
                        asks=(
                            "How will it show on my statement?",
                            "what will it look like on my bank statement?",
                        ),
                        answers=(
                            "It shows as NIMBUS HOME with the order number, as a credit to the "
                            "card you paid with.",
                            "Look for a credit from NIMBUS HOME that mentions order {order}.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "What if it still isn't there by then?",
                            "and if I still don't have it after that?",
                        ),
                        answers=(
                            "Then reply here with the order number and we'll send you the refund "
                            "reference, so your bank can trace it.",
                            "If it's not there by {refund_eta}, message us and we'll give you the "
                            "refund reference for your bank.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Can I get it as store credit instead?",
                            "could you give me store credit rather than a refund?",
                        ),
                        answers=(
                            "Refunds always go back to the original payment method, so store "
                            "credit isn't available for this one.",
                            "I'm afraid not — refunds are always made to the card you paid with.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                age=(6, 12),
                replies=(
                    "Thanks, {name}. Your return for order {order} is on its way back to us — "
                    "{carrier} scanned it on {return_scan}. As soon as it arrives we'll issue the "
                    "refund, which then takes 5–10 business days to reach your card.",
                    "I've checked order {order}: the return parcel is still in transit to our "
                    "warehouse (scanned {return_scan}). The refund is issued the day it arrives, "
                    "and banks take 5–10 business days to show it.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Will you email me when it's issued?",
                            "do I get a notification?",
                        ),
                        answers=(
                            "Yes, you'll get an email at {email} the moment the refund is issued.",
                            "You will — we email {email} as soon as the refund goes out.",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# Intents: warranty, payments and billing
# ---------------------------------------------------------------------------------------------

BILLING: tuple[Intent, ...] = (
    Intent(
        name="warranty_claim",
        weight=3,
        detail="order",
        ask=(
            "Sorry to hear that, {name}. To open a warranty claim, could you share the order "
            "number?",
            "That shouldn't happen — let's get it replaced. What's the order number it came with?",
            "I'm sorry, {name}. Which order was the {device} from? The number starts with NH-.",
            "Let's check the warranty. Could you give me the order number?",
        ),
        products=ANY_PRODUCT,
        team="technical",
        age=(90, 650),
        openers=(
            "My {product} stopped working after {months} months.",
            "My {product} died and it's only a year old. Is it under warranty?",
            "Can I get a warranty replacement for my {product}?",
            "The {product} won't power on anymore, I bought it last year.",
            "I think my {product} is faulty — it keeps rebooting. It's about {months} months old.",
            "Is the {product} covered by warranty if it just stopped working?",
            "The {product} in the {room} has stopped responding completely after {months} months.",
            "How do I make a warranty claim?",
            "My {product} is broken, I bought it back in {month}.",
            "The button on my {product} stopped working. Warranty?",
        ),
        terse=(
            "warranty claim",
            "{product} dead, warranty?",
            "is this covered by warranty",
            "need a warranty replacement",
            "{product} broken after {months} months",
        ),
        context=(
            "I've already tried resetting it and power cycling.",
            "It's been working fine since I installed it.",
            "Nothing changed in the setup, it just stopped.",
            "It's mounted in the {room}, nowhere near water or heat.",
            "I really rely on it when we're away.",
        ),
        outcomes=(
            Outcome(
                weight=4,
                resolved=False,
                replies=(
                    "Thanks, {name}. Your {device} from order {order} is within the 2-year "
                    "limited warranty, so I've opened claim {ticket} and we'll ship a replacement "
                    "at no cost — it should arrive by {replacement_eta}. A prepaid label for the "
                    "faulty unit "
                    "will be emailed to {email}.",
                    "Good news: order {order} is still under our 2-year limited warranty. Claim "
                    "{ticket} is open, and a replacement {device} ships today; expect it by "
                    "{replacement_eta}.",
                    "I've checked order {order}, {name}. The {device} is covered. I've opened "
                    "warranty claim {ticket}; the replacement arrives by {replacement_eta}, and "
                    "you can send "
                    "the old one back with the free label we're emailing you.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Do I have to set everything up again?",
                            "will I lose my settings with the new one?",
                        ),
                        answers=(
                            "You'll add the new device in the app (+ > Add device), but your "
                            "schedules, automations and recordings stay with your account.",
                            "Only the pairing: add the replacement in the app and your settings "
                            "and history carry over from your account.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "How long is the warranty on the replacement?",
                            "is the new one covered too?",
                        ),
                        answers=(
                            "Yes — the replacement is covered for the rest of your original "
                            "warranty period.",
                            "It carries on the original warranty, so you're covered until the "
                            "2 years from your first purchase are up.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                age=(760, 1000),
                resolved=False,
                replies=(
                    "Thanks, {name}. Order {order} is a bit over 2 years old, so it's past the "
                    "standard warranty — but you have Nimbus Plus Pro, which extends device "
                    "warranty to 3 years. I've opened claim {ticket} and a replacement {device} "
                    "will arrive by {replacement_eta}.",
                    "Order {order} is older than 2 years, but since you're on Plus Pro your "
                    "devices get a 3-year warranty. Claim {ticket} is open and the replacement "
                    "should reach you by {replacement_eta}.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Nice, I didn't know Pro did that. What else does it include?",
                            "what else do I get with Pro?",
                        ),
                        answers=(
                            "Plus Pro includes 60 days of video history, professional monitoring "
                            "and the 3-year warranty, for $12.99/month or $129/year.",
                            "Besides the longer warranty: 60 days of video history and "
                            "professional monitoring. It's $12.99/month or $129/year.",
                        ),
                        intent="plan_pricing",
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="payment_failed",
        weight=3,
        detail="custom",
        ask=(
            "Sorry about that, {name}! What does the error message say exactly, and which type "
            "of card are you using?",
            "Let's figure it out. What's the exact error you see at checkout, and what kind of "
            "card is it?",
            "I can help. Could you tell me the error message and the card type (Visa, "
            "Mastercard...)?",
            "That's annoying, sorry. What message appears when it fails, and which card are you "
            "paying with?",
        ),
        answers=(
            "it says 'card declined', it's a {card_brand}",
            '"Payment could not be processed." {card_brand}',
            "just says something went wrong. {card_brand}",
            "It says declined. Using my {card_brand}.",
            "error: payment failed. {card_brand} ending {last4}",
            '"Your card was declined" — it\'s a {card_brand}',
        ),
        products=ANY_PRODUCT,
        team="billing",
        openers=(
            "My card keeps getting declined at checkout.",
            "I'm trying to pay for {a_product} but I get a payment error.",
            "Checkout says 'payment failed' but my card works everywhere else.",
            "Why was my payment declined?",
            "I can't complete my order, the payment won't go through.",
            "Every time I try to pay for my Nimbus Plus subscription it fails.",
            "Your checkout won't accept my card.",
            "I get an error at the payment step when I try to buy {a_product}.",
            "My payment keeps failing and I don't know why.",
        ),
        terse=(
            "payment declined",
            "card not working at checkout",
            "payment error??",
            "cant pay",
            "checkout keeps failing",
        ),
        context=(
            "I've tried three times now.",
            "There's plenty of money on the card.",
            "I'm trying to get the {product} before the sale ends.",
            "I used the same card for my last order without problems.",
            "I'm ordering from my phone.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                replies=(
                    "Thanks, {name}. That message comes from the card issuer, so nothing was "
                    "charged on our side. Most often it's a billing address that doesn't match "
                    "the card's, or the bank blocking an online purchase. Please check the "
                    "billing address and try once more; if it still fails, the number on the "
                    "back of your card can approve it.",
                    "A decline like that is sent by your bank, not by us. Double-check that the "
                    "billing address and zip code match your card statement exactly, then try "
                    "again. If it's still declined, your bank can lift the block in a minute.",
                    "Thanks for the details. When checkout says declined, the bank has refused "
                    "the payment — often because of a mismatched billing zip code or a fraud "
                    "check. Check the address, try again, or use a different card.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Was I charged for the failed attempts?",
                            "will I be charged multiple times now?",
                            "I see pending charges on my card, was I charged?",
                        ),
                        answers=(
                            "No — failed attempts aren't charged. Your bank may show a temporary "
                            "hold, but it drops off by itself within a few business days.",
                            "You weren't charged. Any pending amounts are authorisation holds "
                            "that your bank releases automatically within a few business days.",
                        ),
                        intent="unexpected_charge",
                    ),
                    Followup(
                        asks=(
                            "Can I pay another way?",
                            "do you take Apple Pay?",
                            "what payment methods do you accept?",
                        ),
                        answers=(
                            "Yes — we accept major credit and debit cards, Apple Pay and Google "
                            "Pay at checkout.",
                            "You can use any major credit or debit card, Apple Pay or Google Pay.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                replies=(
                    "Thanks, {name}. Some banks ask for a one-time verification code during "
                    "checkout; if that window was closed or timed out, the payment fails. Try "
                    "again and keep the page open until your bank's verification screen appears.",
                    "It looks like the bank's security check didn't finish. When you pay again, "
                    "wait for your bank's verification pop-up (or app notification) and approve "
                    "it — that usually fixes it.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "I never got a verification pop-up though.",
                            "there was no code or pop up at all",
                        ),
                        answers=(
                            "Then a browser setting may be blocking it. Try another browser or "
                            "the Nimbus app, or allow pop-ups for nimbushome.example.",
                            "Pop-up blockers sometimes hide it. Allow pop-ups for our site or try "
                            "paying in the Nimbus app instead.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="update_payment",
        weight=2,
        products=ANY_PRODUCT,
        team="billing",
        openers=(
            "How do I change the card on my account?",
            "I got a new card, how do I update it for my subscription?",
            "My card expired, where do I update my payment details?",
            "I want to switch my {plan} payment to a different card.",
            "Can you update my payment method?",
            "Where do I change my billing card?",
            "I need to replace the {card_brand} on file with a new one.",
            "How can I remove my old card from the account?",
            "My bank replaced my card, so I need to update the details for {plan}.",
        ),
        terse=(
            "update card",
            "change payment method",
            "new card how to update",
            "card expired",
            "change card on file",
        ),
        context=(
            "My bank sent me a replacement card after a fraud alert.",
            "I don't want my subscription to lapse.",
            "I got an email saying the renewal might fail.",
            "I'd rather pay with my credit card than my debit card.",
        ),
        outcomes=(
            Outcome(
                weight=1,
                replies=(
                    "You can update it at account.nimbushome.example > Billing > Payment method, "
                    "or in the Nimbus app under Account > Billing. For your security we can't "
                    "take card details in chat.",
                    "Sure, {name}! Go to Account > Billing > Payment method in the Nimbus app (or "
                    "on account.nimbushome.example) and tap Replace card. The new card is used "
                    "from your next payment.",
                    "Head to Billing > Payment method on the web dashboard or in the app, add the "
                    "new card, and set it as default. Please don't share card numbers here — the "
                    "billing page is the secure place for them.",
                    "Easy fix: in the app, open Account > Billing, choose Payment method and add "
                    "your new card. Your {plan} renewal on {renew_date} will use it.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Will my subscription be charged again?",
                            "does changing the card charge me now?",
                        ),
                        answers=(
                            "No, changing the card doesn't trigger a charge. Your next renewal on "
                            "{renew_date} will simply use the new card.",
                            "Nope — nothing is charged when you update it. The new card is used "
                            "from your next renewal on {renew_date}.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Can I just give you the new card number here?",
                            "can you do it for me if I send the card details?",
                        ),
                        answers=(
                            "Please don't share card details in chat — for your security we never "
                            "take them here. The Billing page is encrypted and it only takes a "
                            "minute.",
                            "I'm not able to take card numbers in chat, for your protection. "
                            "The Billing page in the app is the safe way to do it.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="unexpected_charge",
        weight=3,
        detail="custom",
        ask=(
            "I'll look into it, {name}. What's the date and amount of the charge, and the last 4 "
            "digits of the card?",
            "Let's get to the bottom of it. Could you tell me the amount, the date it appeared, "
            "and the last 4 digits of the card?",
            "Sorry for the confusion! Which amount and date do you see, and on which card (last "
            "4 digits)?",
            "I can check that. What's the exact amount and date of the charge?",
        ),
        answers=(
            "{amount} on {charge_date}, card ending {last4}",
            "It's {amount}, from {charge_date}.",
            "{amount}. {card_brand} ending in {last4}",
            "{charge_date}, {amount}",
            "the charge is {amount} on {charge_date}. card ends {last4}",
        ),
        products=ANY_PRODUCT,
        team="billing",
        openers=(
            "I see a charge from Nimbus Home I don't recognise.",
            "There's a charge on my card from Nimbus and I don't know what it is.",
            "Why did you charge me?",
            "What is this Nimbus Home charge on my statement?",
            "I have a charge from you that I didn't expect.",
            "Can you explain a payment I didn't authorise?",
            "Nimbus took money from my account and I don't know why.",
        ),
        terse=(
            "what is this charge",
            "unknown charge??",
            "why was i charged",
            "charged?? for what",
        ),
        context=(
            "I was going through my bank statement this morning.",
            "My partner asked me what it was and I had no idea.",
            "I haven't bought anything from you recently.",
            "I'm on a tight budget.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                openers=(
                    "Why did you charge me {amount}?",
                    "There's a {amount} charge from Nimbus I don't recognise.",
                    "I got billed {amount} but I don't remember signing up for anything.",
                    "I thought I cancelled {plan} but I got charged {amount}.",
                ),
                terse=("why was i charged {amount}", "{amount} charge??"),
                replies=(
                    "Thanks, {name}. That {amount} charge on {charge_date} is the renewal of "
                    "your {plan} plan ({billing}), which renews automatically. If you'd like to "
                    "stop future renewals, turn off auto-renew under Account > Subscription.",
                    "I found it: {amount} on {charge_date} is the {billing} renewal of {plan} on "
                    "your account. It renews automatically until auto-renew is turned off in "
                    "Account > Subscription.",
                    "That's your {plan} subscription, {name}. {amount} is the {billing} price, "
                    "and it renewed on {charge_date}. You can see every payment under Billing > "
                    "Invoices.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can you cancel it so it doesn't happen again?",
                            "ok please cancel the subscription then",
                            "How do I stop it renewing?",
                        ),
                        answers=(
                            "Done — auto-renew is off. You keep {plan} until the end of the "
                            "period you've paid for, and you won't be charged again.",
                            "I've turned off auto-renew for you. Your plan stays active until "
                            "the current period ends, then stops without further charges.",
                        ),
                        intent="cancel_subscription",
                    ),
                    Followup(
                        asks=(
                            "Can I get that money back?",
                            "can you refund it?",
                            "I want a refund for this charge",
                        ),
                        answers=(
                            "Subscription periods that have started aren't refunded, but you "
                            "keep all {plan} features until the period ends, and turning off "
                            "auto-renew makes sure it's the last charge.",
                            "We don't refund a period once it has started, I'm sorry — you keep "
                            "access until it ends, and nothing more will be charged once "
                            "auto-renew is off.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=2,
                charge="order",
                openers=(
                    "I was charged twice for my order!",
                    "You charged me twice for the same order.",
                    "There are two identical charges of {amount} on my card.",
                    "Why do I see the same payment twice?",
                ),
                terse=("charged twice!!", "double charge", "two charges for one order?"),
                replies=(
                    "Thanks, {name}. I can see what happened: the first attempt on "
                    "{charge_date} was only an authorisation hold, not a charge. Only one "
                    "payment of {amount} went through, and the hold disappears from your "
                    "statement within 3–5 business days.",
                    "I've checked, and only one payment of {amount} was taken. The second line "
                    "is a temporary hold from a checkout attempt — your bank releases it "
                    "automatically within a few business days.",
                    "You were only charged once, {name}. The duplicate {amount} is a pending "
                    "authorisation that never completed; it drops off on its own within 3–5 "
                    "business days.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "And if it doesn't disappear?",
                            "what if it's still there next week?",
                        ),
                        answers=(
                            "If it's still showing after 5 business days, message us and we'll "
                            "send your bank a confirmation that it was never captured.",
                            "Then let us know — we'll give you a letter confirming only one "
                            "payment was taken, which your bank can use to release it.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "I was charged after my free trial, I didn't want that.",
                    "My free trial turned into a paid subscription without warning!",
                    "I only signed up for the trial, why did you charge me {amount}?",
                ),
                terse=("charged after free trial??",),
                replies=(
                    "I'm sorry for the surprise, {name}. Your 14-day free trial of {plan} ended "
                    "on {charge_date}, so the first {billing} payment of {amount} was taken. You "
                    "can turn off auto-renew in Account > Subscription to avoid future charges.",
                    "The {amount} is the first {billing} payment for {plan}, taken when your "
                    "14-day trial ended on {charge_date}. Trials convert automatically unless "
                    "they're cancelled before the end.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "I didn't get any reminder email!",
                            "nobody told me it would charge",
                        ),
                        answers=(
                            "I'm sorry it wasn't clear. We send a reminder 3 days before a trial "
                            "ends — it may have landed in spam. I've turned off auto-renew so "
                            "there won't be another charge.",
                            "Sorry about that. The reminder goes to {email} 3 days before the "
                            "trial ends; please check your spam folder. Auto-renew is now off.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="request_invoice",
        weight=2,
        detail="order",
        ask=(
            "Sure, {name}! Which order do you need it for? The number starts with NH-.",
            "Happy to send one. What's the order number?",
            "Of course. Could you give me the order number the invoice is for?",
        ),
        products=ANY_PRODUCT,
        team="billing",
        age=(3, 60),
        openers=(
            "Can I get an invoice for order {order}?",
            "I need a receipt for my {product}.",
            "Could you send me an invoice for my last order?",
            "I need an invoice with my company name on it for the {product}.",
            "Where can I download invoices?",
            "I need a receipt for warranty purposes.",
            "Can you email me a copy of my receipt?",
            "My accountant needs an invoice for the {product} I bought {ago}.",
            "How do I get a receipt for my order?",
        ),
        terse=("invoice pls", "need a receipt", "invoice for {order}", "where are my invoices"),
        context=(
            "I'm expensing it through work.",
            "I lost the confirmation email.",
            "It's for my home insurance records.",
            "I'm doing my taxes this week.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                replies=(
                    "Done, {name}! I've emailed the invoice for order {order} to {email}. You "
                    "can also download any invoice yourself from account.nimbushome.example > "
                    "Orders > {order} > Invoice.",
                    "I've sent the invoice for order {order} to {email}. For the future, every "
                    "invoice is under Orders on the web dashboard, ready to download as a PDF.",
                    "The invoice for order {order} is on its way to {email}. It's also available "
                    "as a PDF under Orders in your account whenever you need it.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can you add my company name to it?",
                            "I need my business name on it",
                            "can the invoice show my company address?",
                        ),
                        answers=(
                            "Yes: add the company name and address under Billing > Business "
                            "details, then download the invoice again — it will show the new "
                            "details.",
                            "Sure — once you fill in Billing > Business details in your account, "
                            "re-downloaded invoices include your company name and address.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "And my subscription invoices?",
                            "where are the Nimbus Plus receipts?",
                        ),
                        answers=(
                            "Subscription invoices are under Billing > Invoices, one per renewal, "
                            "also as PDFs.",
                            "You'll find them under Billing > Invoices — each {plan} payment has "
                            "its own PDF.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="promo_code",
        weight=2,
        detail="custom",
        given_by="{code}",
        ask=(
            "Sorry about that, {name}! Which code are you trying to use?",
            "Let's take a look. What's the exact code you entered?",
            "I can check it for you. What's the code?",
        ),
        answers=("{code}", "it's {code}", "The code is {code}.", "{code} from your email"),
        products=ANY_PRODUCT,
        team="billing",
        openers=(
            "My discount code {code} isn't working.",
            "The promo code says invalid.",
            "I tried to use {code} at checkout but nothing happened.",
            "Why won't my code {code} apply?",
            "The discount code from your newsletter doesn't work.",
            "I have a code for {a_product} but checkout rejects it.",
            "Your promo code {code} says expired, but the email said it's valid this week.",
        ),
        terse=("promo code not working", "discount code invalid??", "{code} doesnt work"),
        context=(
            "I got it in your welcome email.",
            "A friend shared it with me.",
            "I'm trying to buy {a_product} and a Smart Plug.",
            "The sale ends tonight.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                replies=(
                    "Sorry about that, {name}! Codes like {code} only apply once the order meets "
                    "the minimum in the offer, and only one code can be used per order. Check "
                    "there's no other code applied and that the cart is above the minimum, then "
                    "enter it again in capital letters.",
                    "Let's get it working. Promo codes are case-sensitive, can't be combined, and "
                    "some exclude subscriptions. Remove any other code, type {code} exactly as "
                    "shown, and it should apply.",
                    "I checked {code}: it's valid, but only for device orders (not Nimbus Plus) "
                    "and once per account. If it still won't apply, place the order and message "
                    "us with the order number within 14 days — we'll refund the difference.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "I already placed the order without it, can you still apply it?",
                            "can you add the discount to an order I already paid for?",
                        ),
                        answers=(
                            "Yes, within 14 days of ordering. Send me the order number and I'll "
                            "refund the discount to your original payment method.",
                            "We can — if the order is less than 14 days old, give me the order "
                            "number and the difference is refunded to your card.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=2,
                resolved=True,
                replies=(
                    "I'm sorry, {name}. {code} expired on {charge_date}, so it can't be applied "
                    "anymore. Keep an eye on our newsletter; new offers come out regularly.",
                    "I checked {code} and unfortunately it's expired. I can't reactivate old "
                    "codes, but subscribers to our newsletter get new offers every month.",
                    "That code ({code}) was a limited-time offer and it ended on {charge_date}. "
                    "Sorry for the disappointment!",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Are there any other discounts right now?",
                            "do you have any codes that work?",
                        ),
                        answers=(
                            "There's no public code running right now, but shipping is free on "
                            "orders over $50, and new Nimbus Plus customers get a 14-day free "
                            "trial.",
                            "Not at the moment, I'm afraid. Standard shipping is free over $50, "
                            "which helps a little!",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# Intents: subscription and account
# ---------------------------------------------------------------------------------------------

ACCOUNT: tuple[Intent, ...] = (
    Intent(
        name="cancel_subscription",
        weight=3,
        detail="email",
        ask=EMAIL_ASK,
        products=("cam", "doorbell", "battery_cam"),
        team="billing",
        openers=(
            "I want to cancel {plan}.",
            "How do I stop auto-renew on my subscription?",
            "Please cancel my {plan} subscription.",
            "I don't use the video history anymore, cancel my plan please.",
            "Cancel my subscription, it's too expensive.",
            "How do I cancel {plan} on the app?",
            "I'd like to end my {plan} plan.",
            "Please turn off the auto renewal for my account {email}.",
            "We sold the house and took the {product} down, so I want to cancel the subscription.",
            "Can I cancel my plan without losing my recordings?",
        ),
        terse=(
            "cancel subscription",
            "stop auto renew",
            "cancel {plan} pls",
            "cancel my plan",
            "unsubscribe me from {plan}",
        ),
        context=(
            "Money is tight at the moment.",
            "We only had the {product} for the holidays.",
            "I barely look at the recordings.",
            "I'm moving to a flat where I can't mount cameras.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                replies=(
                    "Done — auto-renew is off for your {plan} plan on {email}. You keep all "
                    "features until {renew_date}, and you won't be charged again.",
                    "I've cancelled {plan} for you, {name}. It stays active until {renew_date}; "
                    "after that there are no more charges, and new clips won't be saved to your "
                    "video history.",
                    "All set. Your {plan} subscription won't renew — you'll have access until "
                    "{renew_date}. You'll get a confirmation at {email}.",
                    "Your {plan} plan is cancelled, {name}. No more payments will be taken, and "
                    "everything keeps working as it does now until {renew_date}.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Will my cameras still work without it?",
                            "does the {product} still work without a plan?",
                            "Can I still see live video after it ends?",
                        ),
                        answers=(
                            "Yes — live view, motion alerts and all device controls keep working "
                            "for free. Only saved video history needs a plan.",
                            "It will. Without a plan you still get live view and alerts; you just "
                            "won't have recordings to look back on.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Can I get a refund for this period?",
                            "do I get money back for the rest of the year?",
                        ),
                        answers=(
                            "We don't refund a period that has already started, but you keep "
                            "every feature until {renew_date}.",
                            "Started periods aren't refunded, I'm afraid — that's why your plan "
                            "stays fully active until {renew_date}.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "What happens to my recordings?",
                            "will my saved videos be deleted?",
                        ),
                        answers=(
                            "Recordings stay available until {renew_date}. Download any clips "
                            "you want to keep before then from the History tab.",
                            "You can still view and download them until {renew_date}; after "
                            "that, the video history is removed.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "How do I cancel my free trial before it charges me?",
                    "I'm on the free trial and don't want to be charged, how do I cancel?",
                    "Please cancel my trial.",
                ),
                terse=("cancel free trial",),
                replies=(
                    "I've cancelled your {plan} free trial, {name}. You won't be charged, and you "
                    "keep access until the 14 days end on {trial_end}.",
                    "Done — the trial won't turn into a paid plan. You can keep using {plan} "
                    "until {trial_end}, and nothing will be charged.",
                    "Your free trial is cancelled and no payment will be taken. Enjoy {plan} "
                    "until {trial_end}!",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I restart the trial later?",
                            "if I change my mind can I try again?",
                        ),
                        answers=(
                            "The free trial is once per account, but you can subscribe any time "
                            "from Account > Subscription.",
                            "Trials are one per account, so next time it would start as a paid "
                            "plan — $4.99/month for Plus.",
                        ),
                        intent="plan_pricing",
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="change_plan",
        weight=2,
        products=("cam", "doorbell"),
        team="billing",
        topical=True,
        openers=(
            "I'd like to change my subscription plan.",
            "How do I change my Nimbus plan?",
            "Can I switch plans mid-subscription?",
        ),
        terse=("change plan", "switch plan?"),
        context=(
            "We just added a second {product}.",
            "I've been on {plan} for a year now.",
            "We're away a lot more this year.",
            "I'm trying to cut costs a little.",
        ),
        outcomes=(
            Outcome(
                weight=2,
                openers=(
                    "I want to upgrade from Plus to Plus Pro.",
                    "I'd like professional monitoring. How do I upgrade?",
                    "Can I upgrade to Plus Pro today?",
                    "How do I get 60 days of history instead of 30?",
                    "Upgrade me to Pro please.",
                ),
                terse=("upgrade to pro", "how to upgrade plan"),
                replies=(
                    "Sure, {name}! Plus Pro gives you 60 days of video history, professional "
                    "monitoring and a 3-year warranty, for $12.99/month or $129/year. Switch "
                    "under Account > Subscription > Change plan; the upgrade applies right away "
                    "and the unused part of your current plan is credited.",
                    "Great choice. Go to Account > Subscription > Change plan and pick Plus Pro "
                    "($12.99/month or $129/year). It starts immediately, and we credit what's "
                    "left of your Plus period.",
                    "You can upgrade in the app: Account > Subscription > Change plan > Plus Pro. "
                    "You'll get 60-day history and professional monitoring straight away.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Will I lose my current recordings?",
                            "do my old clips stay?",
                        ),
                        answers=(
                            "No, everything you have stays, and from now on clips are kept for "
                            "60 days instead of 30.",
                            "They all stay. Going forward, history is kept for 60 days.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "How does the professional monitoring work?",
                            "what does professional monitoring actually do?",
                        ),
                        answers=(
                            "When an alarm-worthy event is detected, a monitoring centre checks "
                            "it and contacts you — and emergency services if needed. You set it "
                            "up under Security > Monitoring in the app.",
                            "A monitoring team reviews alarms from your devices around the clock "
                            "and calls you (or emergency services) when something's wrong. "
                            "Turn it on under Security > Monitoring.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "How do I downgrade to Plus?",
                    "I want to go from Plus Pro back to regular Plus.",
                    "Can I move down to the cheaper plan?",
                    "Pro is too much for us, can I switch to Plus?",
                ),
                terse=("downgrade plan", "switch to cheaper plan"),
                replies=(
                    "No problem, {name}. Plus keeps 30 days of video history for $4.99/month or "
                    "$49/year. Switch under Account > Subscription > Change plan; it takes effect "
                    "at your next renewal on {renew_date}, so you keep Pro until then.",
                    "You can downgrade in Account > Subscription > Change plan > Plus. The change "
                    "applies from {renew_date}; until then you keep professional monitoring and "
                    "60-day history.",
                    "Done from your side in a few taps: Account > Subscription > Change plan. "
                    "Plus is $4.99/month or $49/year, and the switch happens on {renew_date}.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "What happens to clips older than 30 days?",
                            "will I lose some recordings?",
                        ),
                        answers=(
                            "After the switch, clips older than 30 days are removed. Download any "
                            "you want to keep before {renew_date}.",
                            "Plus keeps 30 days, so anything older is deleted after "
                            "{renew_date} — save important clips before then.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "Can I switch to yearly billing?",
                    "Can I move my subscription from monthly to annual to save money?",
                    "Is there a discount if I pay for the year?",
                    "How do I change from monthly to yearly?",
                ),
                terse=("switch to yearly", "annual billing?"),
                replies=(
                    "Good idea — yearly saves money: Plus is $49/year instead of $4.99/month, and "
                    "Plus Pro is $129/year instead of $12.99/month. Choose Yearly under Account > "
                    "Subscription > Change plan; it starts at your next renewal on {renew_date}.",
                    "Sure, {name}. In Account > Subscription > Change plan, pick the yearly "
                    "option. Plus is $49/year and Plus Pro $129/year; the new billing starts on "
                    "{renew_date}.",
                    "You can switch under Account > Subscription. Yearly costs $49 for Plus or "
                    "$129 for Plus Pro, and takes over from your monthly billing on "
                    "{renew_date}.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I go back to monthly later?",
                            "and if I want monthly again?",
                        ),
                        answers=(
                            "Yes, any time — the change applies at the end of the yearly period.",
                            "Of course. Switch back in the same place and it takes effect when "
                            "the year ends.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="plan_pricing",
        weight=3,
        products=("cam", "doorbell", "battery_cam"),
        team="billing",
        openers=(
            "How much is Nimbus Plus?",
            "What's the difference between Plus and Plus Pro?",
            "Is there a free trial?",
            "What do I get with a subscription?",
            "Do I need a subscription for the {product} to work?",
            "How much is professional monitoring?",
            "Is Plus Pro worth it for {a_product}?",
            "What does Nimbus Plus include?",
            "How long are videos stored with Plus?",
            "Is there a yearly price for Plus?",
            "Can I try Plus before paying?",
            "What are your subscription prices?",
        ),
        terse=(
            "plus price?",
            "how much is plus pro",
            "free trial?",
            "subscription cost",
            "plus vs pro?",
        ),
        context=(
            "I just bought {a_product}.",
            "I'm trying to decide whether it's worth it.",
            "We want to keep an eye on the {room} while we're away.",
            "I've been using the {product} without a plan so far.",
        ),
        outcomes=(
            Outcome(
                weight=1,
                replies=(
                    "Nimbus Plus keeps 30 days of video history for $4.99/month or $49/year. Plus "
                    "Pro keeps 60 days and adds professional monitoring and a 3-year device "
                    "warranty, for $12.99/month or $129/year. Both start with a 14-day free "
                    "trial.",
                    "Great question, {name}! There are two plans: Plus ($4.99/month or $49/year) "
                    "with 30 days of video history, and Plus Pro ($12.99/month or $129/year) with "
                    "60 days, professional monitoring and 3 years of warranty. You can try either "
                    "free for 14 days.",
                    "You don't need a plan for live view and alerts. Plus adds 30-day video "
                    "history ($4.99/month or $49/year); Plus Pro adds 60-day history, "
                    "professional monitoring and a 3-year warranty ($12.99/month or $129/year). "
                    "New subscribers get 14 days free.",
                    "Here's the short version: Plus = 30 days of recordings, $4.99/month or "
                    "$49/year. Plus Pro = 60 days, professional monitoring and a 3-year warranty, "
                    "$12.99/month or $129/year. 14-day free trial on both.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Do I have to enter a card for the trial?",
                            "will I be charged automatically after the trial?",
                        ),
                        answers=(
                            "Yes, a card is needed to start the trial, but nothing is charged if "
                            "you cancel before the 14 days end. We remind you 3 days before.",
                            "The trial needs a card on file and turns into a paid plan after 14 "
                            "days unless you cancel — we send a reminder 3 days before.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Does one plan cover all my cameras?",
                            "do I need a separate plan for each camera?",
                        ),
                        answers=(
                            "One plan covers every Nimbus Cam and Doorbell on your account.",
                            "No — a single plan covers all the cameras and doorbells on your "
                            "account.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "How do I sign up?",
                            "ok how do I start the trial?",
                        ),
                        answers=(
                            "In the Nimbus app, go to Account > Subscription and pick a plan — "
                            "the 14-day trial starts straight away.",
                            "Open Account > Subscription in the app or on "
                            "account.nimbushome.example and choose Plus or Plus Pro.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="reset_password",
        weight=4,
        detail="email",
        ask=(
            "I can help with that, {name}. What's the email address on the account?",
            "Sure! Which email do you sign in with? I'll send a fresh reset link.",
            "No problem. Can you confirm the account email so I can send the reset link?",
            "Let's get you back in. What's the email address you use for Nimbus?",
        ),
        products=ANY_PRODUCT,
        team="accounts",
        openers=(
            "I forgot my password.",
            "The password reset email never arrives.",
            "I can't log in, I need to reset my password.",
            "How do I reset my Nimbus password?",
            "I've requested the reset link three times and got nothing.",
            "My password isn't working anymore.",
            "I'm locked out of my account.",
            "Can you send me a password reset link to {email}?",
            "The reset link says it's expired.",
            "I can't remember my password for the web dashboard.",
            "Reset password isn't working for me.",
        ),
        terse=(
            "forgot password",
            "reset link not arriving",
            "cant log in",
            "password reset pls",
            "locked out",
            "no reset email",
        ),
        context=(
            "I got a new laptop and none of my passwords are saved.",
            "I haven't logged in on the web for ages.",
            "I need to check the {product} while I'm away.",
            "I've checked my spam folder already.",
        ),
        outcomes=(
            Outcome(
                weight=4,
                replies=(
                    "Thanks! I've sent a fresh reset link to {email}; it's valid for 1 hour. If "
                    "you don't see it in a few minutes, check your spam or promotions folder for "
                    "an email from no-reply@nimbushome.example.",
                    "Done, {name}! A new password reset link is on its way to {email}. It "
                    "expires after an hour, so use it soon.",
                    "I've triggered a new reset email to {email}. Click the link, choose a new "
                    "password, and you're back in. The link works for 1 hour.",
                    "A reset link is on its way to {email}. If it doesn't show up, add "
                    "no-reply@nimbushome.example to your contacts and I'll resend it.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Still nothing in my inbox.",
                            "it still hasnt arrived",
                            "Nothing yet, even in spam.",
                        ),
                        answers=(
                            "I've resent it just now. Some providers delay messages for a few "
                            "minutes; if it isn't there in 10 minutes, reply here and I'll verify "
                            "you another way.",
                            "Sorry about that. I've sent it again to {email}. If your provider "
                            "blocks it, I can open ticket {ticket} so our accounts team verifies "
                            "you and sets it manually.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Will resetting log me out of the app?",
                            "do I need to log in again on my phone after?",
                        ),
                        answers=(
                            "Yes, changing your password signs you out on every device for "
                            "security; just log in again with the new one. Your devices keep "
                            "working in the meantime.",
                            "You'll be signed out everywhere and need to log in again. Your "
                            "devices and recordings aren't affected.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="update_account",
        weight=2,
        detail="email",
        ask=EMAIL_ASK,
        products=ANY_PRODUCT,
        team="accounts",
        topical=True,
        openers=(
            "How do I update my account details?",
            "I need to change some details on my account.",
            "Can I change my profile info?",
        ),
        terse=("update account details", "change my details"),
        context=(
            "Some of my details are out of date.",
            "I'm tidying up my accounts this week.",
        ),
        outcomes=(
            Outcome(
                weight=2,
                openers=(
                    "How do I change the email on my account?",
                    "I want to change my account email to my new address.",
                    "Can I change my login email?",
                    "My old email is going away, how do I update it?",
                ),
                terse=("change email on account", "update my email"),
                replies=(
                    "Thanks, {name}. You can change it at account.nimbushome.example > Profile > "
                    "Email. We'll send a confirmation link to the new address, and the change "
                    "takes effect once you click it.",
                    "For security, email changes are done by you: go to Profile > Email in the "
                    "app, enter the new address, and confirm it from the link we send there.",
                    "Go to Profile > Email on the web dashboard or in the app. After you confirm "
                    "the link sent to the new address, you'll sign in with it from then on.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Will my devices stay connected?",
                            "do I need to set the cameras up again?",
                        ),
                        answers=(
                            "Yes, everything stays connected — devices, plans and recordings are "
                            "tied to your account, not the email address.",
                            "No setup needed. Only your sign-in email changes.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "I got married and need to update my last name.",
                    "Can you change the name on my account?",
                    "My name is spelled wrong on my account.",
                ),
                terse=("change name on account",),
                replies=(
                    "Congratulations, {name}! I've updated the name on your account; it'll show on "
                    "future orders and invoices.",
                    "Done — the new name is saved. You can also edit it yourself any time under "
                    "Profile > Name.",
                    "All sorted. Your account now shows the updated name, and new invoices will "
                    "use it too.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can you change it on my old invoices too?",
                            "what about past receipts?",
                        ),
                        answers=(
                            "Past invoices keep the name used at the time, but you can download "
                            "them again from Orders — re-downloaded ones show your new name.",
                            "Any invoice you download from now on shows the new name, including "
                            "older orders.",
                        ),
                        intent="request_invoice",
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "Can you update my phone number?",
                    "I have a new phone number, where do I change it?",
                    "My phone number on the account is old, please update it to {phone}.",
                ),
                terse=("update phone number",),
                replies=(
                    "You can update it under Profile > Phone in the app; we'll text a code to the "
                    "new number to confirm it.",
                    "Sure, {name}. Go to Profile > Phone, enter {phone}, and confirm the code we "
                    "text you. That's the number used for alerts and 2FA.",
                    "Phone numbers are changed under Profile > Phone. Once you confirm the code, "
                    "alerts and verification texts go to the new number.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Will this change where my 2FA codes go?",
                            "does that affect two-factor?",
                        ),
                        answers=(
                            "Yes — after you confirm it, verification codes go to the new number.",
                            "It does. Once confirmed, 2FA texts are sent to the new number.",
                        ),
                        intent="two_factor",
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="delete_account",
        weight=1,
        detail="email",
        ask=(
            "I'm sorry to see you go, {name}. To start, can you confirm the account email?",
            "I can help with that. Which email address is the account under?",
            "Understood. For security, please confirm the email on the account.",
        ),
        products=ANY_PRODUCT,
        team="accounts",
        openers=(
            "Please delete my account and all my data.",
            "How do I close my Nimbus account?",
            "I want you to erase everything you have on me.",
            "I'm moving away from Nimbus, I'd like my account removed.",
            "Delete my account please.",
            "How can I permanently delete my data and recordings?",
            "I'd like to close my account under {email}.",
            "Can you remove my personal information from your systems?",
        ),
        terse=("delete account", "close my account", "erase my data"),
        context=(
            "We've sold the house with the devices.",
            "I don't use the {product} anymore.",
            "I'm trying to reduce how many accounts I have online.",
        ),
        outcomes=(
            Outcome(
                weight=1,
                replies=(
                    "I've started the deletion for {email}, {name}. You'll get an email to "
                    "confirm it; once confirmed, your account, recordings and device history are "
                    "erased within 30 days. Any active subscription is cancelled.",
                    "Done — a confirmation link is on its way to {email}. After you click it, we "
                    "remove your account and all personal data within 30 days, and devices are "
                    "unlinked.",
                    "Your deletion request is in. Confirm it from the email sent to {email}; the "
                    "account, recordings and personal data are then erased within 30 days.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I get a copy of my data first?",
                            "can I download my videos before?",
                        ),
                        answers=(
                            "Yes — download it under Profile > Privacy > Export data before you "
                            "confirm the deletion.",
                            "Sure. Use Profile > Privacy > Export data first; it includes "
                            "recordings and account details.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "What happens to my devices?",
                            "can someone else use the {product} after?",
                        ),
                        answers=(
                            "They're unlinked from your account. A factory reset makes them ready "
                            "for a new owner to set up.",
                            "Once the account is gone the devices are free; factory-reset them and "
                            "anyone can add them to their own account.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="two_factor",
        weight=2,
        detail="email",
        ask=EMAIL_ASK,
        products=ANY_PRODUCT,
        team="accounts",
        topical=True,
        openers=(
            "I'm having trouble with two-factor authentication.",
            "2FA isn't working for me.",
            "I can't get past the verification step when logging in.",
        ),
        terse=("2fa not working", "verification code problem"),
        context=(
            "It's for my main Nimbus account.",
            "My partner and I share the account.",
        ),
        outcomes=(
            Outcome(
                weight=2,
                openers=(
                    "I'm not getting the 2FA codes.",
                    "The verification code SMS never arrives.",
                    "My two-factor code texts stopped coming.",
                    "I keep waiting for the login code but no text comes through.",
                ),
                terse=("no 2fa code", "code not arriving", "sms code never comes"),
                replies=(
                    "Thanks, {name}. I've checked the account: codes go to the phone number on "
                    "file. Texts can take a couple of minutes — after 60 seconds, tap 'Resend' or "
                    "choose 'Call me instead' to hear the code.",
                    "Sorry about that. Please wait a minute and tap 'Resend code'. If texts still "
                    "don't arrive, pick 'Use a backup code' or 'Call me instead' on the same "
                    "screen.",
                    "SMS delivery can lag sometimes. On the code screen, choose 'Call me instead' "
                    "and you'll get an automated call with the code. You can also switch to an "
                    "authenticator app under Security once you're in.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "My number changed, that's probably why.",
                            "oh I think the number on file is my old one",
                        ),
                        answers=(
                            "That explains it. Use a backup code to sign in, then update the "
                            "number under Profile > Phone. No backup codes? I can open a "
                            "verification ticket ({ticket}) for the accounts team.",
                            "Then the codes are going to the old number. Sign in with a backup "
                            "code if you have one, or I'll open ticket {ticket} so our accounts "
                            "team can verify you and update it.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                resolved=False,
                openers=(
                    "I lost my phone and can't log in because of two-factor authentication.",
                    "My authenticator app was on my old phone, how do I get back in?",
                    "Got a new phone and the authenticator codes are gone.",
                    "My phone was stolen and it had my 2FA app on it.",
                ),
                terse=("lost phone 2fa", "new phone, authenticator gone"),
                replies=(
                    "Sorry to hear that, {name}. If you saved backup codes when you set up 2FA, "
                    "use one on the login screen. If not, I've opened ticket {ticket}: our "
                    "accounts team will verify your identity by email at {email} and reset 2FA, "
                    "usually within one business day.",
                    "No problem, we can get you back in. Try a backup code first ('Use a backup "
                    "code' on the login screen). Without one, our accounts team can reset 2FA "
                    "after verifying you — I've opened ticket {ticket} and they'll email {email}.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Will my cameras keep recording meanwhile?",
                            "do my devices keep working while I'm locked out?",
                        ),
                        answers=(
                            "Yes, your devices and recordings keep working normally; only the "
                            "sign-in is affected.",
                            "They do — being locked out of the app doesn't affect the devices or "
                            "your plan.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "How do I turn on two-factor authentication?",
                    "Can I use an authenticator app for my Nimbus login?",
                    "I want to add 2FA to my account.",
                ),
                terse=("how to enable 2fa",),
                replies=(
                    "Great idea, {name}! Go to Account > Security > Two-factor authentication in "
                    "the app, choose text message or an authenticator app, and follow the steps. "
                    "Save the backup codes somewhere safe.",
                    "You can turn it on under Account > Security > Two-factor authentication. We "
                    "support SMS codes and authenticator apps; keep the backup codes it shows you.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "What if I lose my phone later?",
                            "and if I lose the phone?",
                        ),
                        answers=(
                            "Use one of your backup codes to sign in, then set 2FA up again on "
                            "the new phone.",
                            "That's what the backup codes are for — each one works once. Keep "
                            "them somewhere other than your phone.",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# Intents: devices, app and contact
# ---------------------------------------------------------------------------------------------

STILL_BROKEN = (
    "ok and what if it still doesn't work?",
    "And if that doesn't fix it?",
    "What if that doesn't help?",
    "and if it still won't work?",
)
FACTORY_RESET = Followup(
    asks=STILL_BROKEN,
    answers=(
        "Then a factory reset usually does it: hold the button on the {device} for 15 seconds "
        "until the light flashes, and add it again from + > Add device. Your recordings and "
        "settings stay on your account.",
        "If it's still stuck, factory-reset it (hold the button for 15 seconds) and set it up "
        "again in the app. If even that fails, tell us and we'll replace it under warranty.",
        "Next step would be a factory reset — 15 seconds on the button — then set it up as new. "
        "Still no luck after that? Reply here and we'll arrange a warranty replacement.",
    ),
)

DEVICES: tuple[Intent, ...] = (
    Intent(
        name="device_setup",
        weight=5,
        detail="custom",
        ask=(
            "Happy to help you get it set up, {name}! Which phone are you using, and how far is "
            "the {device} from your router?",
            "Congrats on the new {device}! Before we start: are you on iPhone or Android, and at "
            "which step does it get stuck?",
            "Let's get it going. Which phone do you have, and is it connected to your home Wi-Fi "
            "right now?",
            "Sure thing. What phone are you setting it up with, and what does the app show at the "
            "moment?",
        ),
        answers=(
            "{phone_model}, it's about 10 feet from the router",
            "{phone_model}. it gets stuck on connecting to wifi",
            "I'm on {phone_model}, the app just spins forever",
            "{phone_model} and yes I'm on the home wifi",
            "{phone_model}. it's in the {room}, router is downstairs",
            "{phone_model}, the app says device not found",
        ),
        products=("thermostat", "cam", "battery_cam", "doorbell", "plug", "hub", "leak"),
        team="technical",
        openers=(
            "How do I set up my new {product}?",
            "I can't get my {product} to pair with the app.",
            "The app doesn't find my {product} during setup.",
            "Just got {a_product}, where do I start?",
            "How do I add a second {product} to my account?",
            "Setup keeps failing at the 'connecting to Wi-Fi' step for my {product}.",
            "I'm trying to install the {product} in the {room} but it won't connect.",
            "The {product} isn't showing up in the Nimbus app.",
            "How do I pair the {product}?",
            "Installing my new {product} and I'm stuck.",
            "Can you walk me through setting up the {product}?",
        ),
        terse=(
            "how to set up {product}",
            "{product} wont pair",
            "setup help pls",
            "cant add {product} to app",
            "pairing failed",
        ),
        context=(
            "I just unboxed it.",
            "I'm not very technical, sorry.",
            "My {relative} gave it to me.",
            "The quick start card wasn't much help.",
            "I already have a Nimbus {other_device} working fine.",
        ),
        outcomes=(
            Outcome(
                weight=1,
                replies=(
                    "Thanks, {name}! In the Nimbus app tap + > Add device > {device} and follow "
                    "the steps. Make sure your phone is on a 2.4 GHz Wi-Fi network and Bluetooth "
                    "is on. {setup_hint}",
                    "Let's do it step by step: open the Nimbus app, tap + > Add device, choose "
                    "{device}, and keep your phone close to it. {setup_hint} If it fails at the "
                    "Wi-Fi step, check the network is 2.4 GHz.",
                    "Got it. Nimbus devices connect on 2.4 GHz Wi-Fi, so make sure your phone is "
                    "on that network during setup, then go to + > Add device > {device}. "
                    "{setup_hint}",
                    "Here's what usually fixes pairing: close and reopen the app, turn Bluetooth "
                    "on, stay on the 2.4 GHz network, and add it again from + > Add device. "
                    "{setup_hint}",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Does it work with Google Home too?",
                            "can I connect it to Alexa after?",
                            "Will it work with HomeKit?",
                        ),
                        answers=(
                            "Yes — once it's set up, link Nimbus in the Alexa or Google Home app "
                            "under Skills / Works with. HomeKit works for the Thermostat, Smart "
                            "Plug and Hub.",
                            "It does. Enable the Nimbus skill in Alexa or link Nimbus in Google "
                            "Home. For HomeKit, the Thermostat, Smart Plug and Hub are supported.",
                        ),
                        intent="compatibility",
                    ),
                    Followup(
                        asks=(
                            "Do I need the hub for it?",
                            "do I have to buy the Nimbus Hub too?",
                        ),
                        answers=("{hub_answer}",),
                    ),
                    Followup(
                        asks=(
                            "My router is dual band, is that a problem?",
                            "what if my wifi is 5GHz?",
                        ),
                        answers=(
                            "Dual-band routers are fine as long as the 2.4 GHz band is on. If "
                            "both bands share one name, setup still works — just stand near the "
                            "router.",
                            "Nimbus devices use 2.4 GHz. Most dual-band routers broadcast both; "
                            "if yours only has 5 GHz enabled, switch on 2.4 GHz in the router "
                            "settings.",
                        ),
                    ),
                    FACTORY_RESET,
                ),
            ),
        ),
    ),
    Intent(
        name="device_offline",
        weight=9,
        detail="custom",
        ask=(
            "Sorry about that, {name}. Has anything changed with your Wi-Fi recently, like a new "
            "router or password? And what is the light on the {device} doing?",
            "Let's get it back online. Did anything change on your network lately (new router, "
            "new password, power cut)?",
            "I can help with that. Is the {device} getting power, and has your Wi-Fi changed "
            "recently?",
            "Sorry to hear it! Quick check: is your internet working on other devices, and did "
            "the router or Wi-Fi password change?",
        ),
        answers=(
            "nope nothing changed. light is blinking",
            "Yes, we got a new router last week.",
            "we changed the wifi password yesterday",
            "Not that I know of. Internet works fine on my phone.",
            "There was a power cut last night.",
            "new router from the internet company, yes",
            "no changes. the light is off",
            "I don't think so? the light blinks slowly",
            "Internet's fine. No changes as far as I know.",
        ),
        products=WIFI_PRODUCTS,
        team="technical",
        openers=(
            "My {product} shows offline in the app.",
            "The {product} keeps disconnecting from Wi-Fi.",
            "The {product} went offline {time_ref} and won't reconnect.",
            "The app says my {product} is unavailable.",
            "My {product} drops off the network every night.",
            "Why does my {product} keep going offline?",
            "The {product} in the {room} says offline again.",
            "My {product} lost connection {time_ref}.",
            "I can't reach my {product} from the app, it's greyed out.",
            "The {product} says 'device offline' even though my internet works.",
            "After a power cut my {product} won't come back online.",
            "We changed our router and now the {product} is offline.",
            "My {product} disconnects from wifi several times a day.",
        ),
        terse=(
            "cam offline again",
            "{product} offline",
            "device offline",
            "it says offline?!",
            "{product} not connecting",
            "{product} keeps disconnecting",
            "offline AGAIN",
            "{product} wont go online",
        ),
        context=(
            "I'm away from home this week and can't check on it.",
            "It worked fine until {time_ref}.",
            "I've already restarted the router twice.",
            "Everything else on the wifi works.",
            "It's in the {room}, not far from the router.",
            "This keeps happening every few days.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                replies=(
                    "Thanks, {name}. Let's get it back online: 1) unplug the {device} (or take "
                    "the battery out) for 10 seconds, 2) make sure it's within range of a 2.4 GHz "
                    "network, 3) in the app go to Devices > {device} > Settings > Wi-Fi network "
                    "and re-enter the password. If the router or password changed, step 3 is the "
                    "one that fixes it.",
                    "Got it. When the network changes, the {device} needs the new details: in the "
                    "app open Devices > {device} > Settings > Wi-Fi network and reconnect it. If "
                    "nothing changed, power-cycle it for 10 seconds first — that fixes most "
                    "offline cases.",
                    "Thanks for checking. Please restart the {device} (10 seconds without power), "
                    "then restart the router. If it's still offline after two minutes, reconnect "
                    "it under Devices > {device} > Settings > Wi-Fi network. Remember it needs "
                    "2.4 GHz Wi-Fi.",
                    "Let's try the quickest fix first, {name}. Power-cycle the {device} for 10 "
                    "seconds. If it doesn't come back within a couple of minutes, go to Devices > "
                    "{device} > Settings > Wi-Fi network in the app and enter your Wi-Fi details "
                    "again.",
                ),
                followups=(
                    FACTORY_RESET,
                    Followup(
                        asks=(
                            "Does it need 5GHz or 2.4?",
                            "my router is 5ghz, is that the issue?",
                            "Could the router be too far away?",
                        ),
                        answers=(
                            "Nimbus devices connect on 2.4 GHz, which also reaches further than "
                            "5 GHz. If the signal bar under Settings shows one bar or less, a "
                            "Wi-Fi extender near the {room} helps.",
                            "They use 2.4 GHz only. In Devices > {device} > Settings you can see "
                            "the signal strength — below two bars, try moving the router or "
                            "adding an extender.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Did I miss any recordings while it was offline?",
                            "will it have recorded anything while offline?",
                        ),
                        answers=(
                            "While a device is offline it can't upload clips, so there may be a "
                            "gap in your history for that time. Everything from now on is saved "
                            "as normal.",
                            "Unfortunately clips can't be saved while it's offline, so there "
                            "will be a gap — it resumes recording as soon as it reconnects.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                resolved=False,
                replies=(
                    "Thanks for trying all that, {name}. Since the {device} stays offline after a "
                    "restart and reconnect, I've opened ticket {ticket} for our technical team; "
                    "they'll check its connection logs and email {email} within a day.",
                    "I've looked at the {device} from our side and it hasn't checked in with our "
                    "servers for a while. I've opened ticket {ticket} so a technician can look at "
                    "the logs — they'll contact you at {email}.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Is there anything I can do meanwhile?",
                            "anything else I can try?",
                        ),
                        answers=(
                            "You could try a factory reset (hold the button for 15 seconds) and "
                            "set it up again — if that works, just reply to the ticket so we can "
                            "close it.",
                            "A factory reset and fresh setup is worth a try. If it's faulty, "
                            "we'll replace it under warranty.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="camera_video",
        weight=5,
        detail="custom",
        ask=(
            "Sorry about that, {name}. Is this the Cam or the Doorbell, and are you on Wi-Fi or "
            "mobile data when it happens?",
            "Let's take a look. Does it happen on Wi-Fi and mobile data, and on every camera or "
            "just one?",
            "I can help. Which device is it, and does the rest of the app work normally?",
        ),
        answers=(
            "the {product} in the {room}, on wifi",
            "just the one camera, happens on both",
            "It's the {product}. I'm on mobile data mostly.",
            "only the {product}, the others are fine",
            "{product}, on home wifi, app is fine otherwise",
        ),
        products=("cam", "cam", "doorbell", "battery_cam"),
        team="technical",
        topical=True,
        openers=(
            "I'm having trouble with video on my {product}.",
            "Video on the {product} isn't working properly.",
        ),
        terse=("video not working", "{product} video issue"),
        context=(
            "We rely on it to watch the {room}.",
            "It was fine until {time_ref}.",
            "I've restarted the app a couple of times.",
            "Someone came to the door and I missed it.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                openers=(
                    "My {product} live view won't load.",
                    "The live video keeps buffering.",
                    "Live view just shows a spinning wheel.",
                    "The {product} video is super laggy.",
                    "I can't see the live feed from the {product}.",
                    "Video takes forever to load when I open the {product}.",
                ),
                terse=("live view not loading", "video keeps buffering", "{product} video black"),
                replies=(
                    "Thanks, {name}. Live view needs about 2 Mbps of upload from your home "
                    "network. In Devices > {device} > Settings > Video quality, switch to 'Auto' "
                    "or 'Standard', and check the signal strength there — below two bars, move "
                    "the router closer or add an extender.",
                    "Slow live view is almost always the connection between the {device} and "
                    "your router. Try lowering Video quality to Standard in the device settings, "
                    "and restart the {device}. If the signal shows one bar, it's too far from "
                    "the router.",
                    "Let's speed it up: update the app, set Video quality to Auto under Devices > "
                    "{device} > Settings, and power-cycle the {device} for 10 seconds. Weak Wi-Fi "
                    "at the {device} is the usual cause.",
                ),
                followups=(
                    FACTORY_RESET,
                    Followup(
                        asks=(
                            "Will lowering quality affect my recordings?",
                            "does that make the recordings worse?",
                        ),
                        answers=(
                            "Recordings use the same setting, so they'll be a bit less sharp on "
                            "Standard — but much more reliable on a weak connection.",
                            "Slightly: clips are recorded at the chosen quality. 'Auto' adjusts to "
                            "your connection, which is usually the best balance.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=2,
                openers=(
                    "No recordings are showing in my history.",
                    "I can't see any clips from yesterday even though there was motion.",
                    "My {product} isn't saving videos.",
                    "Where are my recordings? History is empty.",
                    "The {product} detected motion but there's no clip.",
                ),
                terse=("no recordings", "history empty??", "clips missing"),
                replies=(
                    "Thanks, {name}. Saved recordings need a Nimbus Plus or Plus Pro plan — "
                    "without one you get live view and alerts, but no history. If you do have a "
                    "plan, check that Recording is on under Devices > {device} > Settings and that "
                    "motion zones cover the area.",
                    "Video history is part of Nimbus Plus (30 days) and Plus Pro (60 days). I see "
                    "your {plan} plan is active, so please check Devices > {device} > Settings > "
                    "Recording is switched on and the motion sensitivity isn't set too low.",
                    "Let's check two things: your plan and the recording settings. Clips are "
                    "saved only with Nimbus Plus or Plus Pro, and only when Recording is on for "
                    "the {device}. Motion zones that miss the area also mean no clips.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "How much is Plus again?",
                            "how much does the plan cost?",
                        ),
                        answers=(
                            "Nimbus Plus is $4.99/month or $49/year (30 days of history); Plus "
                            "Pro is $12.99/month or $129/year (60 days plus professional "
                            "monitoring). Both have a 14-day free trial.",
                            "Plus is $4.99/month or $49/year, and Plus Pro is $12.99/month or "
                            "$129/year — each with a 14-day free trial.",
                        ),
                        intent="plan_pricing",
                    ),
                    Followup(
                        asks=(
                            "Can I get back the clips from yesterday?",
                            "are the old clips gone for good?",
                        ),
                        answers=(
                            "If they weren't recorded, I'm afraid there's nothing to recover. "
                            "From now on, with Recording on, every motion event is saved.",
                            "Clips that were never saved can't be recovered, sorry. The settings "
                            "change makes sure new events are kept.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "Night vision isn't working on my camera, the image is black at night.",
                    "At night the {product} video is all white and blurry.",
                    "The night vision on my {product} turned off by itself.",
                    "My {product} shows only black screen after dark.",
                ),
                terse=("night vision not working", "black screen at night"),
                replies=(
                    "Thanks, {name}. Check Devices > {device} > Settings > Night vision is set to "
                    "Auto. A white, washed-out image usually means light reflecting off a window "
                    "or a nearby wall — the infrared light bounces back. Moving it a few inches "
                    "usually fixes it.",
                    "Night vision should switch on by itself in the dark. Please set Night vision "
                    "to Auto in the device settings, and make sure the {device} isn't pointing "
                    "through glass — infrared reflects off windows.",
                    "Let's check the setting first: Devices > {device} > Settings > Night vision "
                    "→ Auto. If it's already on Auto and the picture stays black, update the "
                    "firmware from the same screen and restart the {device}.",
                ),
                followups=(FACTORY_RESET,),
            ),
        ),
    ),
    Intent(
        name="thermostat_issue",
        weight=4,
        detail="custom",
        ask=(
            "Sorry about that, {name}. Do you have a C-wire connected? You can see it in the app "
            "under Thermostat > Settings > Wiring.",
            "Let's figure it out. What kind of system do you have (furnace, heat pump, boiler), "
            "and is there a C-wire?",
            "I can help. What does the thermostat screen show, and which wires are connected on "
            "the backplate?",
        ),
        answers=(
            "no C-wire I think. it's a furnace",
            "Yes there's a C-wire, it's a heat pump.",
            "R, W, G, Y and C connected",
            "not sure what a c-wire is",
            "gas furnace, no C wire",
            "it's a boiler, only two wires",
            "the app says C-wire: not detected",
        ),
        products=("thermostat",),
        team="technical",
        topical=True,
        openers=(
            "My thermostat isn't working right.",
            "Something's wrong with my Nimbus Thermostat.",
        ),
        terse=("thermostat problem", "T2 not working"),
        context=(
            "It's freezing in here.",
            "It's been hot all week and the house won't cool down.",
            "We installed it ourselves last month.",
            "The kids are complaining about the temperature.",
            "It worked fine with the old thermostat.",
        ),
        outcomes=(
            Outcome(
                weight=2,
                openers=(
                    "My thermostat isn't turning the heat on.",
                    "The T2 says heating but the furnace never starts.",
                    "The house is cold even though the thermostat is set to 70.",
                    "The heat won't come on with the Nimbus Thermostat.",
                    "My thermostat keeps losing power and the screen goes blank.",
                    "Do I need a C-wire for the T2? It keeps shutting off.",
                ),
                terse=("heat not coming on", "thermostat no heat", "T2 keeps turning off"),
                replies=(
                    "Thanks, {name}. Without a C-wire, the Nimbus Thermostat can run low on power "
                    "and drop the heating call. You can add the power adapter from the box, or "
                    "use a spare wire as C — Thermostat > Settings > Wiring in the app walks you "
                    "through it.",
                    "That sounds like a power issue: the T2 needs a C-wire for steady power. If "
                    "you don't have one, use the adapter that came in the box. Before touching "
                    "wires, switch the system off at the breaker.",
                    "Thanks. Please check Thermostat > Settings > Wiring in the app — if C-wire "
                    "shows 'not detected', the thermostat is likely browning out. Connecting the "
                    "included power adapter fixes this for most homes.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "I'm not comfortable doing wiring, what do I do?",
                            "can someone come and install it?",
                        ),
                        answers=(
                            "That's completely fine — a local HVAC technician can connect the "
                            "adapter in a few minutes. Keep the breaker off until then.",
                            "No problem; an HVAC technician or electrician can do it quickly. "
                            "Our wiring guide in the app shows them exactly where it goes.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Does it work with a heat pump?",
                            "is the T2 compatible with my boiler?",
                        ),
                        answers=(
                            "The Nimbus Thermostat works with most 24V systems, including heat "
                            "pumps and boilers. It doesn't support line-voltage (120/240V) "
                            "baseboard heaters.",
                            "Yes for most 24V systems — furnaces, heat pumps and boilers. The "
                            "only ones it can't run are high-voltage baseboard heaters.",
                        ),
                        intent="compatibility",
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "The thermostat shows the wrong temperature.",
                    "My T2 reads 4 degrees higher than the actual room temp.",
                    "The temperature on the thermostat is way off.",
                    "Nimbus Thermostat says 75 but it's clearly colder.",
                ),
                terse=("wrong temperature reading", "thermostat temp wrong"),
                replies=(
                    "Thanks, {name}. Sun on the thermostat, a nearby lamp or a draft from the "
                    "wall behind it can throw the reading off. You can correct it under "
                    "Thermostat > Settings > Temperature offset (up to ±5°).",
                    "That usually comes from where it's mounted — direct sunlight, a kitchen, or "
                    "a draft through the wall hole. Seal the hole behind it, and set a "
                    "correction under Settings > Temperature offset.",
                    "Try a temperature offset under Thermostat > Settings. If the difference "
                    "changes during the day, sunlight or a heat source near the thermostat is the "
                    "likely cause.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I use a separate sensor in another room?",
                            "do you have remote temperature sensors?",
                        ),
                        answers=(
                            "Not yet — the Nimbus Thermostat uses its built-in sensor. Moving it "
                            "to an inside wall away from sunlight helps the most.",
                            "There isn't a separate room sensor at the moment; the offset setting "
                            "is the best fix for now.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "The AC won't turn on with my Nimbus thermostat.",
                    "Cooling isn't working, the thermostat says cooling but nothing happens.",
                    "My T2 won't switch to cool mode.",
                ),
                terse=("ac not working with thermostat", "no cooling"),
                replies=(
                    "Thanks, {name}. First check Thermostat > Settings > Equipment that cooling is "
                    "enabled and the Y wire is detected under Wiring. The T2 also waits 5 minutes "
                    "between cycles to protect the compressor, so give it a moment after changes.",
                    "Let's check the setup: cooling needs the Y wire connected and 'Cooling' "
                    "enabled under Settings > Equipment. If both look right, switch the AC off "
                    "at the breaker for a minute and try again.",
                ),
                followups=(FACTORY_RESET,),
            ),
        ),
    ),
    Intent(
        name="battery_issue",
        weight=3,
        detail="custom",
        ask=(
            "Sorry to hear that, {name}. Roughly how many motion events does the {device} record "
            "per day, and which firmware version is it on (Settings > About)?",
            "Let's look into it. Is the {device} in a busy spot, and how long does a full charge "
            "last right now?",
            "I can help. When did you last charge it, and does the app show any low-signal "
            "warning for the {device}?",
        ),
        answers=(
            "it faces the street so lots of motion",
            "Maybe 50 events a day? firmware {firmware}",
            "a full charge lasts about {battery_days} days now",
            "charged it {ago}, signal looks ok",
            "not sure. it's in the {room}",
            "Firmware {firmware}. It's by the front door.",
        ),
        products=("battery_cam", "battery_cam", "doorbell"),
        team="technical",
        openers=(
            "My {product} battery drains in a few days.",
            "The {product} battery won't charge.",
            "Battery life is terrible since the last update.",
            "How long should the battery last on the {product}?",
            "My {product} keeps dying, I have to charge it every {battery_days} days.",
            "The {product} says low battery right after charging.",
            "The charging light on my {product} doesn't come on.",
            "The {product} battery went from 100 to 20% in two days.",
        ),
        terse=(
            "battery drains fast",
            "{product} battery dead again",
            "wont charge",
            "battery life awful",
        ),
        context=(
            "It's mounted outside and it's been cold lately.",
            "I charged it fully on {weekday}.",
            "It used to last months.",
            "I'm using the cable that came in the box.",
        ),
        outcomes=(
            Outcome(
                weight=2,
                replies=(
                    "Thanks, {name}. A full battery normally lasts 2–4 months, but lots of motion "
                    "events, a weak Wi-Fi signal and cold weather all shorten it. Try narrowing "
                    "the motion zones and lowering sensitivity under Devices > {device} > "
                    "Settings > Motion.",
                    "Battery life depends mostly on how often the {device} wakes up. Reduce motion "
                    "sensitivity, exclude the street with a motion zone, and check the Wi-Fi "
                    "signal — a weak signal makes it work harder.",
                    "Thanks for the details. Busy areas can drain it in weeks rather than months. "
                    "Turning on Battery saver under Devices > {device} > Settings > Power and "
                    "trimming motion zones usually doubles the battery life.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I just wire it instead?",
                            "is there a way to power it permanently?",
                        ),
                        answers=(
                            "Yes — the Nimbus Cam comes in a wired version, and the Doorbell can "
                            "be "
                            "connected to existing doorbell wiring so it charges all the time.",
                            "If you have doorbell wiring, the Doorbell can run off it. For the "
                            "Cam, the wired version avoids charging altogether.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Does the cold affect it?",
                            "is it the winter?",
                        ),
                        answers=(
                            "Yes, lithium batteries drain faster below freezing and may not charge "
                            "until they warm up. Charge it indoors at room temperature.",
                            "Cold weather does shorten battery life, and the battery won't charge "
                            "below freezing — bring it inside to charge.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                resolved=False,
                replies=(
                    "Thanks, {name}. If it won't charge with the original cable and adapter, the "
                    "battery may be faulty — that's covered by the 2-year warranty. I've opened "
                    "ticket {ticket}; we'll email {email} with the replacement details.",
                    "That sounds like a battery fault rather than a setting. I've opened warranty "
                    "ticket {ticket} for a replacement; our team will confirm the shipping details "
                    "by email at {email}.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Do I send the old one back?",
                            "what do I do with the old battery?",
                        ),
                        answers=(
                            "Yes, please — a prepaid return label comes with the replacement "
                            "email. Don't throw the battery away.",
                            "We'll email a free return label; please send the faulty one back "
                            "rather than binning it.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="firmware_update",
        weight=2,
        detail="none",
        products=WIFI_PRODUCTS,
        team="technical",
        topical=True,
        openers=(
            "I have a question about firmware updates for my {product}.",
            "Firmware question about the {product}.",
        ),
        terse=("firmware?", "firmware update question"),
        context=(
            "I got a notification this morning.",
            "I like to keep everything up to date.",
            "It's the {product} in the {room}.",
        ),
        outcomes=(
            Outcome(
                weight=2,
                openers=(
                    "The firmware update on my {product} is stuck at {percent}%.",
                    "My {product} has been updating for an hour.",
                    "The update keeps failing on the {product}.",
                    "Firmware update stuck, what do I do?",
                    "The app says 'update failed' for my {product}.",
                ),
                terse=("update stuck", "firmware stuck at {percent}%", "update failed again"),
                replies=(
                    "Sorry about that, {name}. Leave it powered for 10 more minutes — updates can "
                    "pause while downloading. If it's still stuck, unplug the {device} for 10 "
                    "seconds, plug it back in, and start the update again from Devices > {device} "
                    "> Settings > Firmware.",
                    "An update that stalls usually lost Wi-Fi mid-download. Restart the {device} "
                    "(10 seconds without power) and retry from Settings > Firmware; it resumes "
                    "safely and won't lose your settings.",
                    "Don't worry, it can't be damaged by a failed update. Restart the {device}, "
                    "make sure it has a good signal, and tap Update again in Settings > Firmware.",
                ),
                followups=(
                    FACTORY_RESET,
                    Followup(
                        asks=(
                            "Will I lose my settings?",
                            "does updating reset anything?",
                        ),
                        answers=(
                            "No — updates keep all your settings, schedules and recordings.",
                            "Nothing is reset; your settings and history stay as they are.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "What's new in the latest firmware?",
                    "What does firmware {firmware} change?",
                    "Is there a new update for the {product}?",
                    "How do I update the firmware on my {product}?",
                    "Do I need to install updates manually?",
                ),
                terse=("whats new in firmware {firmware}", "how to update firmware"),
                replies=(
                    "Firmware {firmware} improves Wi-Fi reconnection after power cuts and speeds "
                    "up live view start. Updates install automatically overnight; you can also "
                    "start one under Devices > {device} > Settings > Firmware.",
                    "Good question, {name}! Updates install automatically at night when the "
                    "{device} is idle. The latest ({firmware}) brings faster connection recovery "
                    "and bug fixes — the full notes are in the app under Settings > Firmware.",
                    "You don't need to do anything: Nimbus devices update themselves overnight. "
                    "To check or update now, open Devices > {device} > Settings > Firmware.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I turn off automatic updates?",
                            "can I stop it updating by itself?",
                        ),
                        answers=(
                            "You can delay them under Settings > Firmware > Update window, but "
                            "security updates still install within a week.",
                            "Automatic updates can be moved to a time that suits you; they "
                            "can't be switched off completely, because they include security "
                            "fixes.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="app_problem",
        weight=4,
        detail="custom",
        ask=(
            "Sorry about that, {name}. Which phone are you on, and which app version (Settings > "
            "About in the app)?",
            "Let's sort it out. What phone and app version are you using?",
            "I can help. Is it an iPhone or Android, and is the app up to date?",
        ),
        answers=(
            "{phone_model}, app {app_version}",
            "{phone_model}. version {app_version} I think",
            "It's {a_phone}, not sure about the version",
            "{phone_model}, latest app",
            "{phone_model}, I updated the app yesterday",
        ),
        products=("cam", "thermostat", "doorbell", "plug"),
        team="technical",
        topical=True,
        openers=(
            "The Nimbus app isn't working properly.",
            "I'm having problems with the app.",
        ),
        terse=("app not working", "app broken"),
        context=(
            "It started after I updated my phone.",
            "It was fine last week.",
            "I've tried reinstalling already.",
            "My partner's phone has the same problem.",
        ),
        outcomes=(
            Outcome(
                weight=2,
                openers=(
                    "The Nimbus app keeps crashing.",
                    "The app closes as soon as I open it.",
                    "The app freezes when I open the {product}.",
                    "Every time I tap on the {product} the app crashes.",
                    "The Nimbus app crashes on startup since {time_ref}.",
                ),
                terse=("app keeps crashing", "app crash", "nimbus app wont open"),
                replies=(
                    "Thanks, {name}. Please update the Nimbus app to the latest version from the "
                    "App Store or Google Play, then restart your phone. If it still crashes, "
                    "delete and reinstall it — your devices and settings are saved to your "
                    "account.",
                    "Sorry about that. Version {app_version} has a known crash on some phones "
                    "that's fixed in the latest update. Please update the app; if that doesn't "
                    "help, reinstall it.",
                    "Let's try the usual fix: force-close the app, update it, and restart the "
                    "phone. Reinstalling is safe too — nothing is stored only on the phone.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Still crashing after reinstalling.",
                            "reinstalled, same problem",
                            "ok and what if it still crashes?",
                        ),
                        answers=(
                            "Thanks for trying. Meanwhile you can use the web dashboard at "
                            "account.nimbushome.example. I've opened ticket {ticket} with our app "
                            "team so they can look at the crash reports from your phone.",
                            "Then I'll pass it to our app developers — ticket {ticket}. The web "
                            "dashboard at account.nimbushome.example works in the meantime.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "I can't log in to the app.",
                    "The app says my password is wrong but it works on the website.",
                    "App login keeps failing.",
                    "The app logs me out every day.",
                ),
                terse=("cant log into app", "app login not working"),
                replies=(
                    "Thanks, {name}. If the password works on the web, the app is probably "
                    "holding an old session. Log out, clear the app's cache (or reinstall), and "
                    "sign in again. Check there's no space at the end of your email.",
                    "Let's reset the app's sign-in: update the app, sign out completely, then "
                    "sign in again. If it still fails, reset your password from the login screen "
                    "— the link goes to your account email.",
                    "That usually means the app has stale sign-in data. Reinstall the app and log "
                    "in fresh; if you use 'Sign in with Apple' or Google, use the same button you "
                    "used when you signed up.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "How do I reset the password then?",
                            "can you send me a reset link?",
                        ),
                        answers=(
                            "Tap 'Forgot password?' on the login screen and enter {email}. The "
                            "reset link is valid for 1 hour.",
                            "I've sent a reset link to {email} — it works for an hour.",
                        ),
                        intent="reset_password",
                    ),
                ),
            ),
            Outcome(
                weight=1,
                openers=(
                    "I'm not getting notifications from the app.",
                    "Motion alerts stopped coming to my phone.",
                    "No push notifications from my {product} anymore.",
                    "The app doesn't notify me when someone rings the doorbell.",
                ),
                terse=("no notifications", "alerts not working", "no push notifications"),
                replies=(
                    "Thanks, {name}. Please check two places: your phone's settings (Notifications "
                    "> Nimbus must be allowed) and in the app, Devices > {device} > Settings > "
                    "Notifications. Battery-saving modes on Android can also block them.",
                    "Notifications need permission on the phone and in the app. Turn them on in "
                    "your phone's settings for Nimbus, then check Settings > Notifications in the "
                    "app. On Android, exclude Nimbus from battery optimisation.",
                    "Let's fix the alerts: make sure Do Not Disturb or Focus mode isn't on, allow "
                    "notifications for Nimbus in the phone settings, and check the schedule under "
                    "Settings > Notifications in the app.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I get alerts by email instead?",
                            "is there an email option for alerts?",
                        ),
                        answers=(
                            "Yes — turn on Email alerts under Account > Notifications and they'll "
                            "go to {email}.",
                            "You can: Account > Notifications > Email alerts sends them to "
                            "{email}.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="compatibility",
        weight=3,
        products=("thermostat", "cam", "doorbell", "plug", "hub", "leak"),
        team="technical",
        topical=True,
        openers=(
            "Is the {product} compatible with my setup?",
            "Will the {product} work with what I have at home?",
        ),
        terse=("compatible?", "will it work with my setup"),
        context=(
            "I'm thinking about buying {a_product}.",
            "We already have a lot of smart home stuff.",
            "I want everything in one app.",
            "My {relative} recommended Nimbus.",
        ),
        outcomes=(
            Outcome(
                weight=3,
                openers=(
                    "Does the {product} work with Alexa?",
                    "Does the {product} work with Google Home?",
                    "Is the {product} compatible with HomeKit?",
                    "Can I control the {product} with Siri?",
                    "Will the {product} work with my Echo?",
                    "Does Nimbus work with Google Assistant?",
                    "Can I link my Nimbus devices to Alexa routines?",
                ),
                terse=("works with alexa?", "google home compatible?", "homekit?"),
                replies=(
                    "Yes, {name}! All Nimbus devices work with Amazon Alexa and Google Home — "
                    "enable the Nimbus skill or link Nimbus under Works with Google. Apple HomeKit "
                    "is supported for the Thermostat, Smart Plug and Hub.",
                    "The {device} works with both Alexa and Google Home. For Apple HomeKit and "
                    "Siri, the Thermostat, Smart Plug and Hub are supported; the Cam and Doorbell "
                    "aren't yet.",
                    "Good news: Alexa and Google Home support every Nimbus device. HomeKit works "
                    "with the Thermostat, Smart Plug and Hub — add them in the Home app with the "
                    "code on the device.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "Can I see the camera on my Echo Show?",
                            "does the cam stream to a smart display?",
                        ),
                        answers=(
                            "Yes — say 'show the {room} camera' on an Echo Show or Nest Hub once "
                            "Nimbus is linked.",
                            "It does. Echo Show and Google Nest Hub displays can show live view "
                            "from your Nimbus Cam and Doorbell.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "How do I set it up with Alexa?",
                            "how do I link it?",
                        ),
                        answers=(
                            "In the Alexa app, go to Skills, search for Nimbus Home, enable it and "
                            "sign in with your Nimbus account. Your devices appear automatically.",
                            "Open the Alexa or Google Home app, add the Nimbus Home service, and "
                            "sign in with your Nimbus account — your devices show up right away.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                products=("thermostat",),
                openers=(
                    "Will the T2 thermostat work with my heat pump?",
                    "Is the Nimbus Thermostat compatible with a boiler?",
                    "I don't have a C-wire, can I still use the Nimbus Thermostat?",
                    "Does the thermostat work with baseboard heating?",
                    "My system has two stages of heat, will the T2 handle it?",
                ),
                terse=("thermostat compatible with heat pump?", "need c wire?"),
                replies=(
                    "The Nimbus Thermostat works with most 24V systems: gas and electric "
                    "furnaces, heat pumps (with aux heat), boilers and two-stage systems. It "
                    "doesn't work with 120/240V baseboard heaters. No C-wire? The included "
                    "power adapter solves that.",
                    "Good question, {name}. The T2 supports 24V heating and cooling — furnaces, "
                    "heat pumps, boilers, up to two stages. Line-voltage baseboard heaters aren't "
                    "supported. If there's no C-wire, use the adapter from the box.",
                    "Most homes are compatible: any 24V system, including heat pumps and boilers. "
                    "The compatibility checker in the app (+ > Add device > Thermostat > Check "
                    "compatibility) tells you for sure from a photo of your wires.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "What if it turns out it's not compatible?",
                            "and if it doesn't work with my system?",
                        ),
                        answers=(
                            "Then return it within 30 days — unused or not, if it isn't "
                            "compatible we send a free return label.",
                            "No risk: you can return it within 30 days with a free label and get "
                            "a full refund.",
                        ),
                    ),
                ),
            ),
            Outcome(
                weight=1,
                products=("hub", "leak"),
                openers=(
                    "Can I use my existing Zigbee sensors with the Nimbus Hub?",
                    "Does the Nimbus Hub work with other brands' sensors?",
                    "Will my old motion sensors pair with the hub?",
                    "Is the leak sensor Zigbee or Wi-Fi?",
                ),
                terse=("zigbee sensors compatible?", "hub work with other sensors?"),
                replies=(
                    "The Nimbus Hub is a Zigbee 3.0 bridge, so many standard Zigbee sensors pair "
                    "with it (+ > Add device > Other Zigbee device), but we only guarantee full "
                    "support for Nimbus sensors like the Leak Sensor.",
                    "Many Zigbee 3.0 sensors work with the Hub, though features vary by brand. "
                    "Nimbus sensors — like the Leak Sensor, which is Zigbee — are fully "
                    "supported.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "How many sensors can the hub handle?",
                            "is there a limit on devices?",
                        ),
                        answers=(
                            "One Hub handles up to 50 Zigbee devices; more than that, add a second "
                            "Hub.",
                            "Up to 50 Zigbee sensors per Hub.",
                        ),
                    ),
                ),
            ),
        ),
    ),
    Intent(
        name="contact_hours",
        weight=2,
        products=ANY_PRODUCT,
        team="support",
        openers=(
            "What are your support hours?",
            "Can I call someone?",
            "What's your phone number?",
            "Are you open on weekends?",
            "Is chat available at night?",
            "Can I talk to you by phone?",
            "When is customer service open?",
            "Is there a number I can ring about my {product}?",
            "How late is support open today?",
            "Do you have phone support on Sundays?",
            "What time does the chat open in the morning?",
        ),
        terse=(
            "phone number?",
            "support hours?",
            "what time do you close",
            "are you open sunday",
            "number to call?",
        ),
        context=(
            "I prefer to explain things by phone.",
            "I work late most days.",
            "My {relative} isn't comfortable with chat.",
            "I might need help this weekend.",
        ),
        outcomes=(
            Outcome(
                weight=1,
                replies=(
                    "Our chat team is here 7am–10pm ET every day, and you can call +1 (555) "
                    "010-4242 on weekdays 9am–6pm ET.",
                    "Chat support runs 7am–10pm ET, seven days a week. Phone support is on "
                    "weekdays, 9am–6pm ET, at +1 (555) 010-4242.",
                    "Good question, {name}! Chat: every day 7am–10pm ET. Phone: +1 (555) "
                    "010-4242, Monday to Friday 9am–6pm ET.",
                    "You can reach us by chat any day from 7am to 10pm ET, or by phone on "
                    "weekdays between 9am and 6pm ET at +1 (555) 010-4242.",
                ),
                followups=(
                    Followup(
                        asks=(
                            "So no phone on weekends?",
                            "can I call on saturday?",
                        ),
                        answers=(
                            "Not by phone, I'm afraid — on weekends our chat team is here "
                            "7am–10pm ET.",
                            "Phone lines are weekdays only, but chat is open Saturday and Sunday "
                            "7am–10pm ET.",
                        ),
                    ),
                    Followup(
                        asks=(
                            "Can you call me back instead?",
                            "could someone ring me?",
                        ),
                        answers=(
                            "Sure — I've opened ticket {ticket} with a callback request; our "
                            "phone team will call you during weekday hours (9am–6pm ET).",
                            "I've requested a callback under ticket {ticket}. Someone will ring "
                            "you on the next weekday between 9am and 6pm ET.",
                        ),
                        intent="human_agent",
                    ),
                ),
            ),
        ),
    ),
)

INTENTS: dict[str, Intent] = {i.name: i for i in ORDERS + BILLING + ACCOUNT + DEVICES}

# ---------------------------------------------------------------------------------------------
# Conversation glue: greetings, thanks, handing over to a person, out of scope
# ---------------------------------------------------------------------------------------------

GREETING_HEADS = (
    "hi",
    "hello",
    "hey",
    "hi there",
    "hello there",
    "good morning",
    "good afternoon",
    "hiya",
    "hey there",
    "good evening",
    "morning",
    "hello?",
    "hi hi",
    "howdy",
    "yo",
    "heya",
)
GREETING_TAILS = (
    "",
    "!",
    ", anyone there?",
    " :)",
    ", is this the right place for help?",
    ", {name} here",
    ", it's {name}",
    ", this is {name} {last}",
    " - hope you're well",
    ", I have a question",
    ", quick question",
    "! are you a bot?",
    ", can you help me?",
    " team",
    "! I need some help",
    ", is someone there?",
    ", {name} {last} here",
)
AGENT_GREET = (
    "Hi {name}! How can I help you today?",
    "Hello {name}, thanks for reaching out to Nimbus Home. What can I do for you?",
    "Hey {name}! What can I help with?",
    "Hi there! I'm here — what's up?",
    "Hello! Happy to help, {name}. What's going on?",
)
THANKS_HEADS = (
    "thanks",
    "thank you",
    "great, thanks",
    "perfect, thank you so much",
    "ok thanks",
    "awesome",
    "cheers",
    "brilliant, thanks for your help",
    "got it, thanks!",
    "ok cool",
    "thanks a lot",
    "super, thank you",
    "great",
    "ok, that works",
    "that's helpful, thanks",
    "thank you!",
    "ok will do, thanks",
    "appreciate the help",
    "perfect",
    "lovely, thanks",
)
THANKS_TAILS = (
    "",
    "",
    "",
    ", that's all",
    ", have a good day",
    ", bye",
    "! you've been a big help",
    ", really appreciate it",
    ". that's everything",
    ", bye for now",
    " :)",
    ", have a nice evening",
    ". nothing else for now",
    "!",
)
THANKS_GRUMPY = (
    "ok. thanks I guess",
    "fine. bye",
    "ok whatever, thanks",
    "alright. hope it works this time",
    "ok, thanks. let's see",
)
THANKS_OPENERS = (
    "Just wanted to say thanks for sorting out my {product} yesterday!",
    "Hi, no question — just a thank you, the replacement {product} works perfectly.",
    "Thanks for the help earlier, all good now.",
    "{name} here again: the {product} is back online, thanks!",
    "Just letting you know the refund arrived. Thank you!",
    "The package turned up after all, thanks for your help yesterday.",
    "Thank you for the quick reply to my email, everything's sorted.",
    "Wanted to say your colleague on the phone was great yesterday. Thanks!",
    "All fixed now — thanks again for the help with the {product}.",
    "Thanks! The reset link worked.",
    "Just a quick thank you, the {product} works great now.",
    "Got the new {product} today, thanks so much for the quick replacement!",
)
AGENT_THANKED = (
    "That's great to hear, {name}! Thanks for letting us know. Anything else I can help with "
    "today?",
    "So glad it's sorted, {name}! Is there anything else I can do for you?",
    "Thanks for the kind words, {name}! I'll pass them on. Anything else you need?",
    "Wonderful, thanks for the update! Is there anything else on your mind?",
)
AGENT_CLOSE = (
    "You're welcome, {name}! Have a great day.",
    "Happy to help! If anything else comes up, we're here 7am–10pm ET every day.",
    "Glad I could help, {name}. Take care!",
    "Anytime! Enjoy the rest of your day, {name}.",
    "Thanks for contacting Nimbus Home, {name}. Bye for now!",
    "My pleasure. Have a good one, {name}!",
    "You're welcome! Take care.",
)
AGENT_CLOSE_GRUMPY = (
    "I understand, {name}. I'm sorry for the trouble. If anything else comes up, just message "
    "us and we'll pick it up right away.",
    "Thanks for your patience, {name}. We're here 7am–10pm ET if you need anything else.",
)
AGENT_CLOSE_HANDOFF_EMAIL = (
    "You're welcome. Our team will be in touch by email soon.",
    "Thanks for your patience — the specialist will reply to this thread under ticket {ticket}.",
)
AGENT_CLOSE_HANDOFF = (
    "You're welcome, {name}. A teammate will be with you shortly.",
    "No problem! Hang tight — someone from the team is joining this chat.",
    "Of course. Ticket {ticket} has everything, so you won't need to repeat yourself.",
)

HUMAN_OPENERS = (
    "Can I talk to a real person?",
    "I want to speak to a human.",
    "agent please",
    "Is this a bot? I'd like a person.",
    "Transfer me to customer service, please.",
    "I need to speak with someone from your team.",
    "Can you connect me to a live agent?",
    "I'd rather talk to an actual human being.",
    "representative",
    "human please",
    "Get me a real person please.",
    "Is there a human I can chat with?",
    "Can I speak to a supervisor?",
    "I don't want a bot, put me through to someone.",
    "talk to agent",
    "Please connect me with a member of staff.",
)
HUMAN_MID = (
    "This isn't helping, can I talk to a person?",
    "I want to speak to someone, please.",
    "can I just talk to a human",
    "I've tried all that already. Put me through to an agent.",
    "Honestly I'd rather speak to a real person about this.",
    "Can a person look at this?",
    "Please escalate this to a human.",
    "I need a real person to sort this out.",
)
HUMAN_INSIST = (
    "I'd rather just talk to someone, please.",
    "Just get me a person.",
    "I'll explain it to the human.",
    "It's complicated, I'd prefer a person.",
    "Rather not say, just connect me please.",
)
AGENT_WHY_HUMAN = (
    "Of course, I can get a person for you. So they can help quickly, could you tell me in a "
    "sentence what it's about?",
    "Sure, {name}. What's it about? I'll pass the details on so you don't have to repeat yourself.",
    "Happy to connect you. What's the issue, briefly? That way the right team picks it up.",
)
AGENT_TRY_FIRST = (
    "No problem. Before I connect you, what do you need help with? I might be able to sort it "
    "right away.",
    "I can get someone, {name}. What's it about? Many things I can fix on the spot, which is "
    "quicker than waiting.",
    "Sure. Tell me what's going on, and if I can't solve it myself I'll pass you straight to a "
    "teammate.",
)
AGENT_HANDOFF = (
    "I've created ticket {ticket} and passed your conversation to a teammate, {name}. Someone "
    "from our {team} team will join this chat shortly — usually within {wait} minutes.",
    "Done — ticket {ticket} is open and a member of our {team} team will take over here in "
    "about {wait} minutes. They'll see everything we've discussed.",
    "Of course, {name}. I've handed this over to a person (ticket {ticket}). Chat is staffed "
    "7am–10pm ET every day, so someone will be with you in a few minutes.",
    "Sure thing. I've opened ticket {ticket}; a teammate will pick it up in this chat in roughly "
    "{wait} minutes. If you prefer the phone, call +1 (555) 010-4242 on weekdays 9am–6pm ET and "
    "mention the ticket number.",
)
AGENT_HANDOFF_EMAIL = (
    "I've forwarded this to our {team} team as ticket {ticket}; a specialist will reply to this "
    "email, usually within one business day.",
    "Thanks, {name}. I've opened ticket {ticket} and a member of our {team} team will follow up "
    "by email within one business day.",
)

OOS_TEMPLATES = (
    "What's the weather going to be like in {city} tomorrow?",
    "will it rain this weekend?",
    "Can you recommend a recipe for {dish}?",
    "how long do I boil {food} for?",
    "Who won the {team_sport} game last night?",
    "Can you tell me a joke?",
    "Help me with my {subject} homework please.",
    "What's the capital of {country}?",
    "My {other_brand} won't turn on, can you help?",
    "How do I reset my {other_brand}?",
    "Can you book me a table for two tonight?",
    "What's a good movie to watch tonight?",
    "Write me a poem about {topic}.",
    "How many calories are in {food}?",
    "Do you know a good plumber in {city}?",
    "What time is it in {country}?",
    "Can you translate 'good morning' into {language}?",
    "is {food} healthy?",
    "what's the best pizza place near me",
    "how do I fix a leaky faucet?",
    "Who's going to win the {team_sport} championship this year?",
    "Can you order me a taxi?",
    "What's 15% of 240?",
    "tell me something interesting",
    "My internet provider keeps overcharging me, what should I do?",
    "Are you single? ;)",
    "How do I get a stain out of a carpet?",
    "What should I get my {relative} for their birthday?",
    "Can you explain {subject} to me?",
    "Is it a good time to buy a house?",
    "how do i make sourdough starter",
    "Can you summarise the news today?",
    "Which is better, {other_brand} or {other_brand2}?",
    "what's the meaning of life",
    "Can you help me write a cover letter?",
    "How tall is Mount Everest?",
    "Do you like music?",
    "What's your favourite colour?",
    "My neighbour's dog barks all night, what can I do?",
    "How do I unclog a drain?",
)
OOS_SLOTS = {
    "city": ("Chicago", "Denver", "Boston", "Seattle", "Austin", "Atlanta", "Phoenix", "Miami"),
    "dish": (
        "lasagna",
        "banana bread",
        "chicken curry",
        "vegan chili",
        "pancakes",
        "lentil soup",
        "tacos",
        "a birthday cake",
    ),
    "food": ("eggs", "pasta", "rice", "an avocado", "broccoli", "potatoes", "a bagel"),
    "team_sport": ("baseball", "basketball", "football", "hockey", "soccer"),
    "subject": ("math", "chemistry", "history", "physics", "algebra", "biology", "geography"),
    "country": ("Japan", "Portugal", "Kenya", "Canada", "Peru", "Norway", "Vietnam"),
    "other_brand": (
        "Samsung TV",
        "Roomba",
        "PlayStation",
        "Kindle",
        "air fryer",
        "Xbox",
        "printer",
        "dishwasher",
        "Fitbit",
        "car radio",
    ),
    "other_brand2": ("Apple Watch", "Garmin", "Sonos speaker", "Chromecast"),
    "topic": ("autumn", "my cat", "the ocean", "coffee", "Mondays"),
    "language": ("Spanish", "French", "Japanese", "German", "Italian"),
    "relative": RELATIVES,
}
OOS_REPLIES = (
    "Sorry, I can only help with Nimbus Home orders, devices and accounts. Is there anything "
    "like that I can do for you?",
    "That's outside what I can help with, I'm afraid — I'm here for questions about Nimbus Home "
    "products, orders and subscriptions. Anything Nimbus-related on your mind?",
    "I wish I could help with that! I'm only able to help with Nimbus Home orders, devices, the "
    "app and your account, though.",
    "Good question, but not one I can answer — I only handle Nimbus Home support: orders, "
    "devices, billing and accounts. Can I help with any of those?",
    "I'm the Nimbus Home support assistant, so that's outside my area. If you have a question "
    "about your order, a device or your account, I'm happy to help, {name}.",
)
OOS_AFTER = (
    "haha ok fair enough",
    "ok never mind then",
    "oh ok. bye",
    "fair, thanks anyway",
    "ok no worries, bye",
    "worth a try :) thanks",
    "ok thanks anyway",
    "alright, bye",
)
OOS_THEN = ("ok fair. actually, ", "Oh ok. Then: ", "haha ok. ", "Ah right. Well, ", "ok then - ")
EMAIL_SIGNOFF = ("Thanks,", "Best,", "Kind regards,", "Thank you,", "Regards,", "Cheers,")

# ---------------------------------------------------------------------------------------------
# Context: the names, numbers and dates one dialogue talks about
# ---------------------------------------------------------------------------------------------

START = date(2025, 9, 1)  # first day of the history
DAYS = 194  # the history ends on 2026-03-13
_PROTECTED = re.compile(r"\b(?:NH|T)-\d{5}\b|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _pick(rng: random.Random, options: Sequence[str]) -> str:
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


def _person(rng: random.Random) -> dict[str, str]:
    """A customer: first and last name and an email on a reserved example domain."""
    first, last = _pick(rng, FIRST_NAMES), _pick(rng, LAST_NAMES)
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
    return {"name": first, "last": last, "email": f"{local}@{_pick(rng, EMAIL_DOMAINS)}"}


def _context(
    rng: random.Random,
    today: date,
    person: dict[str, str],
    intent: Intent | None,
    outcome: Outcome | None,
) -> dict[str, str]:
    """Every slot a template may use, consistent with the outcome (dates, plan, amounts)."""
    products = (outcome.products if outcome else ()) or (intent.products if intent else ())
    product = _pick(rng, products or ANY_PRODUCT)
    device, aliases = PRODUCTS[product]
    alias = _pick(rng, aliases)
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
    plan, billing, plan_amount = _pick(rng, PLAN_PRICES)
    order_total = f"${rng.randint(55, 340)}.{_pick(rng, ('00', '95', '99', '49', '98'))}"
    phone = _pick(rng, PHONES)
    other = _pick(rng, [k for k in PRODUCTS if PRODUCTS[k][0] != device])
    weekday_ahead = today + timedelta(days=rng.randint(2, 6))
    past_day = today - timedelta(days=rng.randint(2, 5))
    city, state = _pick(rng, CITIES)
    if product == "leak":
        hub_answer = (
            "Yes — the Leak Sensor is a Zigbee device, so it connects through the Nimbus Hub."
        )
    elif product == "hub":
        hub_answer = "The Hub is the bridge itself, so you only need your router and the cable."
    else:
        hub_answer = (
            f"No, the {device} connects straight to your Wi-Fi. The Hub is only needed "
            "for Zigbee sensors like the Leak Sensor."
        )
    ctx = dict(person)
    ctx.update(
        order=f"NH-{rng.randint(10000, 99999)}",
        ticket=f"T-{rng.randint(10000, 99999)}",
        product=alias,
        a_product=_a(alias),
        device=device,
        other_device=PRODUCTS[other][0].removeprefix("Nimbus "),
        part=_pick(rng, PARTS[product]),
        setup_hint=SETUP_HINTS[product],
        hub_answer=hub_answer,
        room=_pick(rng, ROOMS),
        relative=_pick(rng, RELATIVES),
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
        carrier=_pick(rng, CARRIERS),
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
        plan=plan,
        billing=billing,
        amount=order_total if outcome and outcome.charge == "order" else plan_amount,
        code=_pick(rng, PROMO_CODES),
        card_brand=_pick(rng, CARD_BRANDS),
        last4=f"{rng.randint(0, 9999):04d}",
        address=f"{rng.randint(2, 980)} {_pick(rng, STREETS)}"
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
        sentences.append(
            _pick(
                rng,
                (
                    "The order number is {order}.",
                    "It's order {order}.",
                    "Order {order}.",
                    "(order {order})",
                ),
            )
        )
        given = True
    if style == "long" and intent.detail == "email" and not given and rng.random() < 0.25:
        sentences.append(_pick(rng, ("My account email is {email}.", "Account: {email}.")))
        given = True
    frustrated = rng.random() < anger
    if frustrated:
        sentences.append(_pick(rng, FRUSTRATION))
    elif rng.random() < 0.22:
        sentences.append(_pick(rng, POLITE))
    text = " ".join(_fill(s, ctx) for s in sentences)
    if style == "smalltalk" and small_talk and not frustrated:
        text = _pick(rng, SMALL_TALK) + " " + text
    elif style == "plain" and small_talk and rng.random() < 0.3:
        text = _join(_pick(rng, HELLO), text)
    return text, given, frustrated


def _has_detail(intent: Intent, template: str) -> bool:
    key = intent.given_by or {"order": "{order}", "email": "{email}"}.get(intent.detail, "")
    return bool(key) and key in template


def _greeting(rng: random.Random, ctx: dict[str, str]) -> str:
    text = _pick(rng, GREETING_HEADS) + _pick(rng, GREETING_TAILS).format_map(ctx)
    return text[:1].upper() + text[1:] if rng.random() < 0.5 else text


def _thanks(rng: random.Random, grumpy: bool) -> str:
    if grumpy and rng.random() < 0.6:
        return _pick(rng, THANKS_GRUMPY)
    text = _pick(rng, THANKS_HEADS) + _pick(rng, THANKS_TAILS)
    return text[:1].upper() + text[1:] if rng.random() < 0.5 else text


def _human_opener(rng: random.Random) -> str:
    core = _pick(rng, HUMAN_OPENERS)
    if not core.endswith((".", "?", "!")):
        return core  # terse: "agent please"
    lead = _pick(rng, ("", "", "", "Hi. ", "Hello, ", "Ok, ", "Honestly, ", "Look, "))
    tail = _pick(
        rng,
        (
            "",
            "",
            "",
            " Thanks.",
            " Please.",
            " It's urgent.",
            " It's quicker.",
            " I've got a few questions.",
            " I'm not a fan of chatbots.",
        ),
    )
    return (_join(lead, core) if lead else core) + tail


def _oos(rng: random.Random) -> str:
    template = _pick(rng, OOS_TEMPLATES)
    slots = {k: _pick(rng, v) for k, v in OOS_SLOTS.items()}
    text = template.format_map(slots)
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------------------------
# Dialogue flow
# ---------------------------------------------------------------------------------------------

MAX_CUSTOMER_TURNS = 6
NOISE_RATE = 0.15  # share of chat customer messages written in sloppy chat style
EMAIL_RATE = 0.15  # share of dialogues that happen by email
CLARIFY = (
    "Sure, {name}! What would you like to know?",
    "Happy to help. Could you tell me a bit more about what's going on?",
    "Of course! What exactly is the question or problem?",
    "I can help with that, {name}. What's happening exactly?",
    "Sure thing. What specifically can I help with?",
)
AGENT_EMAIL_SIGNOFF = (
    "Best regards,\nNimbus Home Support",
    "Kind regards,\nThe Nimbus Home team",
    "Best,\nNimbus Home Support",
)
EMAIL_SALUTATION = ("Hello,", "Hi,", "Dear Nimbus Home support,", "Hi Nimbus team,", "Hello there,")


class _Dialogue:
    """The turns of one dialogue as they are written, with the budget of customer turns."""

    def __init__(self, rng: random.Random, channel: str, person: dict[str, str], today: date):
        self.rng, self.channel, self.person, self.today = rng, channel, person, today
        self.turns: list[dict[str, str]] = []

    @property
    def n_customer(self) -> int:
        return sum(t["role"] == "customer" for t in self.turns)

    def room(self, k: int) -> bool:
        """Whether `k` more customer turns fit."""
        return self.n_customer + k <= MAX_CUSTOMER_TURNS

    def customer(self, text: str, intent: str | None = None) -> None:
        rng = self.rng
        if self.channel == "chat" and rng.random() < NOISE_RATE:
            text = chat_noise(text, rng)
        elif self.channel == "email":
            if not self.turns:
                text = (
                    f"{_pick(rng, EMAIL_SALUTATION)}\n\n{text}\n\n"
                    f"{_pick(rng, EMAIL_SIGNOFF)}\n{self.person['name']}"
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
            text = f"Hi {ctx['name']},\n\n{text}\n\n{_pick(self.rng, AGENT_EMAIL_SIGNOFF)}"
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
    d.agent(_pick(d.rng, AGENT_HANDOFF_EMAIL if d.channel == "email" else AGENT_HANDOFF), ctx)


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
    rng = d.rng
    outcome = _weighted(rng, intent.outcomes, [o.weight for o in intent.outcomes])
    ctx = _context(rng, d.today, d.person, intent, outcome)
    anger = 0.0 if intent.name in CALM else 0.18 if not outcome.resolved else 0.08
    empathy = ""
    if intent.topical:
        # The intent's own openers are vague ("question about shipping"): either ask what exactly
        # the customer wants, or start straight from the outcome's specific phrasings.
        pools = (outcome.openers, outcome.terse or outcome.openers)
        if rng.random() < 0.3 and d.room(2 + reserve) and not hand_over:
            text, _, angry = _opening(
                rng,
                intent,
                (intent.openers, intent.terse),
                ctx,
                d.channel,
                small_talk=not prefix,
                anger=anger,
            )
            d.customer(_join(prefix, text) if prefix else text, intent.name)
            d.agent(_pick(rng, CLARIFY), ctx, _pick(rng, EMPATHY) + " " if angry else "")
            empathy = "done" if angry else ""
            text, given, _ = _opening(
                rng,
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
                rng, intent, pools, ctx, d.channel, small_talk=not prefix, anger=anger
            )
            d.customer(_join(prefix, text) if prefix else text, intent.name)
    else:
        use_outcome = outcome.openers and rng.random() < 0.5
        pools = (
            outcome.openers if use_outcome else intent.openers,
            outcome.terse if use_outcome and outcome.terse else intent.terse,
        )
        text, given, angry = _opening(
            rng, intent, pools, ctx, d.channel, small_talk=not prefix, anger=anger
        )
        d.customer(_join(prefix, text) if prefix else text, intent.name)
    if hand_over:
        _handoff(d, ctx)
        return _Topic(ctx, False, angry, handed_over=True)
    empathy = _pick(rng, EMPATHY) + " " if angry and not empathy else ""
    found = ""
    if intent.detail != "none" and not given:
        if intent.detail == "order" and rng.random() < 0.1 and d.room(2 + reserve):
            d.agent(
                _after_empathy(_pick(rng, intent.ask)) if empathy else _pick(rng, intent.ask),
                ctx,
                empathy,
            )
            d.customer(_pick(rng, NO_ORDER))
            d.agent(_pick(rng, NO_ORDER_ASK), ctx)
            d.customer(_fill_detail(_pick(rng, EMAIL_ANSWERS), ctx))
            found = _pick(rng, FOUND_ORDER)
        else:
            ask = _pick(rng, intent.ask)
            d.agent(_after_empathy(ask) if empathy else ask, ctx, empathy)
            answers = (
                outcome.answers
                or intent.answers
                or (ORDER_ANSWERS if intent.detail == "order" else EMAIL_ANSWERS)
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


SERVICE = tuple(INTENTS)
# Questions about facts rather than problems: customers asking them are rarely angry.
CALM = frozenset(
    {
        "shipping_options",
        "plan_pricing",
        "contact_hours",
        "compatibility",
        "change_plan",
        "update_account",
        "request_invoice",
        "update_payment",
        "delete_account",
    }
)


def _service_intent(rng: random.Random, exclude: str = "") -> Intent:
    names = [n for n in SERVICE if n != exclude]
    return INTENTS[_weighted(rng, names, [INTENTS[n].weight for n in names])]


def _et_offset(day: date) -> int:
    """Hours from US Eastern time to UTC (daylight saving time ends Nov 2, 2025, starts Mar 8)."""
    return 5 if date(2025, 11, 2) <= day < date(2026, 3, 8) else 4


def _close(d: _Dialogue, topic: _Topic, handed_over: bool) -> None:
    rng = d.rng
    grumpy = topic.frustrated or not topic.resolved
    d.customer(_thanks(rng, grumpy and rng.random() < 0.5), "thanks_goodbye")
    if handed_over:
        closes = AGENT_CLOSE_HANDOFF if d.channel == "chat" else AGENT_CLOSE_HANDOFF_EMAIL
        d.agent(_pick(rng, closes), topic.ctx)
    elif grumpy and rng.random() < 0.5:
        d.agent(_pick(rng, AGENT_CLOSE_GRUMPY), topic.ctx)
    else:
        closes = AGENT_CLOSE if d.channel == "chat" else [c for c in AGENT_CLOSE if "{" not in c]
        d.agent(_pick(rng, closes), topic.ctx)


def _dialogue(rng: random.Random, opening: str) -> dict:
    """One dialogue whose first customer message is labelled `opening`."""
    chat_only = opening in ("greeting", "human_agent", "oos")
    channel = "email" if not chat_only and rng.random() < EMAIL_RATE else "chat"
    day = START + timedelta(days=rng.randrange(DAYS))
    hour = rng.randint(7, 21) if channel == "chat" else rng.randint(0, 23)
    local = datetime(day.year, day.month, day.day, hour, rng.randrange(60))
    created = local + timedelta(hours=_et_offset(day))
    d = _Dialogue(rng, channel, _person(rng), day)
    main = INTENTS.get(opening) or _service_intent(rng)
    topics: list[_Topic] = []
    handed_over = False
    closing_done = False

    if opening in INTENTS:
        topics.append(_topic(d, main))
    elif opening == "greeting":
        ctx = _context(rng, day, d.person, None, None)
        d.customer(_greeting(rng, ctx), "greeting")
        d.agent(_pick(rng, AGENT_GREET), ctx)
        topics.append(_topic(d, main, prefix=""))
    elif opening == "oos":
        ctx = _context(rng, day, d.person, None, None)
        d.customer(_oos(rng), "oos")
        first = rng.randrange(len(OOS_REPLIES))
        d.agent(OOS_REPLIES[first], ctx)
        branch = rng.random()
        if branch < 0.45:
            if branch < 0.12:
                d.customer(_oos(rng), "oos")
                d.agent(OOS_REPLIES[(first + 1 + rng.randrange(3)) % len(OOS_REPLIES)], ctx)
            d.customer(_pick(rng, OOS_AFTER), "thanks_goodbye")
            d.agent(_pick(rng, AGENT_CLOSE), ctx)
            closing_done = True
        else:
            topics.append(_topic(d, main, prefix=_pick(rng, OOS_THEN)))
    elif opening == "human_agent":
        ctx = _context(rng, day, d.person, main, None)
        d.customer(_human_opener(rng), "human_agent")
        if rng.random() < 0.65:
            d.agent(_pick(rng, AGENT_WHY_HUMAN), ctx)
            if rng.random() < 0.3:
                d.customer(_pick(rng, HUMAN_INSIST), "human_agent")
                _handoff(d, ctx)
                topics.append(_Topic(ctx, False, False, handed_over=True))
            else:
                topics.append(_topic(d, main, hand_over=True))
        else:
            d.agent(_pick(rng, AGENT_TRY_FIRST), ctx)
            topics.append(_topic(d, main))
        handed_over = topics[-1].handed_over
    elif opening == "thanks_goodbye":
        ctx = _context(rng, day, d.person, None, None)
        d.customer(_fill(_pick(rng, THANKS_OPENERS), ctx), "thanks_goodbye")
        d.agent(_pick(rng, AGENT_THANKED), ctx)
        if rng.random() < 0.6:
            d.customer(
                _pick(
                    rng,
                    (
                        "no that's all, bye!",
                        "Nope, that's everything. Bye!",
                        "that's all, have a good one",
                        "No, all good. Thanks!",
                        "nothing else, thanks",
                        "No thank you, bye",
                    ),
                ),
                "thanks_goodbye",
            )
            d.agent(_pick(rng, AGENT_CLOSE), ctx)
            closing_done = True
        else:
            topics.append(
                _topic(
                    d,
                    main,
                    prefix=_pick(
                        rng,
                        (
                            "Actually yes — ",
                            "Now that you mention it, ",
                            "Yes, one thing: ",
                            "Actually, ",
                            "Oh, while I'm here: ",
                        ),
                    ),
                )
            )
    else:
        raise ValueError(f"unknown opening label {opening!r}: use an intent, 'greeting' or 'oos'")

    if not closing_done:
        last = topics[-1]
        if not handed_over:
            p_human = 0.25 if (last.frustrated or not last.resolved) else 0.04
            roll = rng.random()
            if roll < 0.14 and d.room(3):
                second = _service_intent(rng, exclude=main.name)
                topics.append(_topic(d, second, prefix=_pick(rng, SWITCH_PREFIX), followups=False))
            elif roll < 0.14 + p_human and d.room(2):
                d.customer(_pick(rng, HUMAN_MID), "human_agent")
                _handoff(d, last.ctx)
                handed_over = True
            elif roll > 0.97 and d.room(2):
                d.customer(
                    _join(_pick(rng, ("btw ", "Random, but ", "Off topic: ")), _oos(rng)), "oos"
                )
                d.agent(_pick(rng, OOS_REPLIES), last.ctx)
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

TRAIN_SIZE, TRAIN_SEED = 2000, 13  # assistant/demo_data/dialogues.jsonl
TEST_SIZE, TEST_SEED = 300, 2026  # assistant/demo_data/dialogues_test.jsonl

# How often each label opens a dialogue (relative); every label also gets a floor of openings.
OPENING_WEIGHTS: dict[str, float] = {
    **{name: intent.weight for name, intent in INTENTS.items()},
    "greeting": 4,
    "oos": 4,
    "human_agent": 2,
    "thanks_goodbye": 1,
}
LABELS: tuple[str, ...] = tuple(sorted(OPENING_WEIGHTS))  # the 33 intents and "oos"


def opening_schedule(n: int, rng: random.Random) -> list[str]:
    """The opening label of each of `n` dialogues, shuffled.

    Every label opens at least min(30, n // 50) dialogues; the rest follow `OPENING_WEIGHTS`
    (largest-remainder rounding, so the counts always add up to `n`).

    >>> schedule = opening_schedule(1700, random.Random(0))
    >>> len(schedule), min(schedule.count(label) for label in LABELS) >= 30
    (1700, True)
    """
    floor = min(30, n // 50)
    rest = n - floor * len(LABELS)
    total = sum(OPENING_WEIGHTS.values())
    shares = {label: rest * OPENING_WEIGHTS[label] / total for label in LABELS}
    counts = {label: floor + int(share) for label, share in shares.items()}
    by_remainder = sorted(LABELS, key=lambda label: (int(shares[label]) - shares[label], label))
    for label in by_remainder[: n - sum(counts.values())]:
        counts[label] += 1
    schedule = [label for label in LABELS for _ in range(counts[label])]
    rng.shuffle(schedule)
    return schedule


def generate_dialogues(n: int, seed: int, *, id_prefix: str = "demo") -> list[dict]:
    """`n` Nimbus Home support dialogues, in chronological order; the same seed gives the same list.

    Each dialogue is `{"id", "turns", "channel", "created", "resolved"}`; a turn is
    `{"role": "customer"|"agent", "text", "intent"?}`, where customer turns that express a
    request carry its intent (one of `LABELS`) and turns that only give details carry none.

    >>> dialogue = generate_dialogues(3, seed=1)[0]
    >>> sorted(dialogue), dialogue["turns"][0]["role"]
    (['channel', 'created', 'id', 'resolved', 'turns'], 'customer')
    """
    if n < 1:
        raise ValueError(f"n={n}: ask for at least one dialogue.")
    rng = random.Random(seed)
    dialogues = [_dialogue(rng, label) for label in opening_schedule(n, rng)]
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


def held_out(n: int, seed: int, exclude: Sequence[dict]) -> list[dict]:
    """`n` dialogues from `seed`, none opening with a message that appears in `exclude`.

    The label mix follows `opening_schedule(n)`, so dropping openings seen in training (short,
    common ones like "refund??") does not leave a label under-represented.
    """
    seen = {_opening_text(d) for d in exclude}
    quota = Counter(opening_schedule(n, random.Random(seed)))
    pool = [
        d for d in generate_dialogues(3 * n, seed, id_prefix="test") if _opening_text(d) not in seen
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
    return [{**d, "id": f"test-{i:05d}"} for i, d in enumerate(kept, 1)]


def main(argv: Sequence[str] | None = None) -> None:
    """Write the training and held-out dialogue files.

    Example: python -m training.demo_corpus --train 2000 --test 300
    """
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=root / "assistant" / "demo_data",
        help="output folder (default: assistant/demo_data)",
    )
    parser.add_argument("--train", type=int, default=TRAIN_SIZE, help="training dialogues")
    parser.add_argument("--test", type=int, default=TEST_SIZE, help="held-out dialogues")
    parser.add_argument("--seed", type=int, default=TRAIN_SEED, help="seed of the training file")
    parser.add_argument(
        "--test-seed", type=int, default=TEST_SEED, help="seed of the held-out file"
    )
    args = parser.parse_args(argv)
    train = generate_dialogues(args.train, args.seed)
    test = held_out(args.test, args.test_seed, train)
    for name, dialogues in (("dialogues.jsonl", train), ("dialogues_test.jsonl", test)):
        path = args.out / name
        write_jsonl(dialogues, path)
        turns = sum(len(d["turns"]) for d in dialogues)
        print(
            f"{path}: {len(dialogues)} dialogues, {turns} turns, {path.stat().st_size / 1e6:.2f} MB"
        )


if __name__ == "__main__":
    main()
