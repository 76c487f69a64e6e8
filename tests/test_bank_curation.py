"""assistant/curation.py and training/bank.py: chat-ready wording, kinds and provenance."""

from __future__ import annotations

import pytest

from assistant.curation import action_claims, chat_unfit, classify, constants, for_chat
from assistant.placeholders import fill, fill_strict, missing_slots
from training.bank import BankConfig, build_bank, lower_case_words
from training.data import Dialogue, Turn

EMAIL_REPLY = (
    "Hi Lina,\n\nThanks, Lina. Could you share the order number?\n\nKind regards,\n"
    "The Nimbus Home team"
)


def test_for_chat_strips_letter_salutation_and_signoff_only():
    assert for_chat(EMAIL_REPLY) == "Thanks, Lina. Could you share the order number?"
    assert for_chat("Hello,\n\nIt shipped.\n\nBest,\nNimbus Home Support") == "It shipped."
    assert for_chat("Hi {name},\n\nAll good?\n\n-- \nSam") == "All good?"
    # a chat greeting answering a greeting is kept, and so is a closing inside a sentence
    assert for_chat("Hello! Happy to help. What's going on?") == (
        "Hello! Happy to help. What's going on?"
    )
    assert for_chat("You're welcome! Take care.") == "You're welcome! Take care."
    # paragraphs survive
    assert for_chat("Hi,\n\nStep one.\n\nStep two.\n\nCheers,\nBo") == "Step one.\n\nStep two."


@pytest.mark.parametrize(
    "text",
    [
        "I've triggered a new reset email to {email}.",
        "Done — I've updated the shipping address on order {order_number}.",
        "The invoice for order {order_number} is on its way to {email}.",
        "I've checked order {order_number}: it was delivered outside the window.",
        "Sure, let me look that up.",
        "No problem! Hang tight — someone from the team is joining this chat.",
        "Your reservation has been made.",
        "Your ticket is confirmed.",
        "I have successfully gotten you a ticket.",
        "Sorry, I was unable to make a reservation.",
        "The song is now playing.",
        "Auto-renew is now off.",
        "You were only charged once.",
        "The song has started.",
        "It's a Pop song.",
        "No, they don't.",
        "There is an entry-fee to view the museum.",
        "sorry they do not serve alcohol .",
        "Yes, it is furnished.",
        "No, unfortunately it is not refundable.",
        "No, unfortunately, they don't offer live music.",
        "I was able to confirm that reservation for you.",
        "Your reservation is successful. They do not have live music.",
        "This restaurant doesn't serve liquor.",
        "The reservation is secured. They do serve alcohol.",
        "Your transfer is successful",
        "Great, it's all booked for you",
        "It is under the Pop genre.",
        "Okay, the songs starting to play now. Enjoy your music!",
        "I'm sorry, there's no live music.",
        "I'm sorry, but pets are not allowed.",
        "Sorry, but there aren't any other movies matching your criteria.",
        "Sorry, no live music.",
        "I've managed to place your reservation.",
        "your transfer is done",
        "The price range is expensive and they do serve alcohol.",
        "Amber restaurant does not serve liquor.",
        "It is pop music.",
        "Playing the movie.",
        "No, entry is not free.",
        "O'hare international airport",
        "Pop.",
        "how to train your dragon: The hidden world",
        "Your tickets have been bought.",
        "Your reservation is successfully made.",
        "Started playing the movie.",
        "Great, reservation complete. The prices are inexpensive.",
        "Alcatraz is a historical landmark.",
        "Unfortunately, it does not have live music.",
    ],
)
def test_action_claims_are_agent_only(text):
    c = classify(text)
    assert c.kind == "agent_only", c
    assert action_claims(text)  # an action, a booking's status or a listing's attribute


@pytest.mark.parametrize(
    "text",
    [
        "Happy to help! Could you share your order number?",
        "Is there anything else I can help you with?",
        "Let me know if that helps.",
        "Once we receive the item, we'll refund you.",
        "Which email address is the account under?",
        "Have a great day!",
        "It is on your account page.",
        "Is there anything else I can help you with?",
        "Sorry, I didn't catch that. Which city are you in?",
        "Which restaurant and what time?",
        "Alright, enjoy your day!",
        "Would you like me to reserve the car for you?",
        "Okay, no problem! What city are you in?",
        "No problem, have a great day!",
        "It's on the back of the device, next to the power port.",
        "It is in your confirmation email.",
        "Goodbye!",
        "Where will you be leaving from",
        "Sure, in which city.",
        "Have a splendid day.",
    ],
)
def test_questions_and_general_information_are_safe(text):
    assert classify(text).kind == "safe", classify(text)


def test_slots_specifics_constants_and_echoes():
    assert classify("Is {order_number} the order you mean?").reasons == ["needs {order_number}"]
    # a name is optional: dropped when unknown
    assert classify("Thanks, {name}! What's the email on the account?").kind == "safe"
    # a date the agent states comes from a back office
    assert classify("It ships on {date}.").kind == "agent_only"
    fact = "You can call them at 408-971-8523."
    assert classify(fact).reasons == ['states a specific: "408-971-8523" (phone)']
    addr = "It is at 71 North San Pedro Street."
    assert {r.split(":")[0] for r in classify(addr).reasons} == {"states a specific"}
    # recurring across conversations: a company constant
    assert classify("Returns within 30 days.", constants=[("30",)]).kind == "safe"
    # what the customer had said, repeated back: only sendable where this customer said it
    c = classify("A table for 2 in San Jose?", echoed=[("2",), ("san", "jose")])
    assert c.kind == "needs_slots" and len(c.reasons) == 2


def test_constants_count_conversations():
    uses = [("Refunds take 5-10 days.", 8), ("Also 5-10 days here.", 4), ("Call 555-0100", 1)]
    assert constants(uses, 12) == {("510",)}
    assert constants(uses, 13) == set()


def test_chat_unfit_finds_letters_and_unfilled_slots():
    assert chat_unfit("Hi,\n\nIt shipped.") == "salutation line"
    assert chat_unfit("It shipped.\n\nBest regards,\nNimbus Home Support") == "sign-off"
    assert chat_unfit("Checking {order_number}.") == "unfilled placeholder {order_number}"
    assert "ticket your ticket" in chat_unfit("Handed over (ticket your ticket).")
    assert chat_unfit("Hello! How can I help?") is None


def _dialogue(i, turns, **meta):
    return Dialogue(f"c{i}", [Turn(*t) for t in turns], meta)


def test_bank_merges_email_and_chat_twins_with_provenance():
    chat = [
        ("customer", "where is my order", "order_status"),
        ("agent", "Thanks, Lina. Could you share the order number?"),
    ]
    email = [
        ("customer", "Hello,\n\nwhere is my order?\n\nLina", "order_status"),
        ("agent", EMAIL_REPLY),
    ]
    ds = [_dialogue(i, chat if i % 2 else email, agent=f"agent{i % 3}") for i in range(8)]
    bank = build_bank(ds, config=BankConfig(examples=3))
    assert len(bank) == 1
    e = bank[0]
    assert e["text"] == "Thanks, {name}. Could you share the order number?"
    assert (e["count"], e["conversations"], e["agents"]) == (8, 8, 3)
    assert e["examples"] == ["c0", "c1", "c2"]  # a bounded sample, first uses first
    assert e["kind"] == "safe" and e["status"] == "unreviewed" and len(e["id"]) == 12


def test_values_the_customer_never_gave_stay_as_written():
    ds = [
        _dialogue(
            1,
            [
                ("customer", "my order NH-11111 hasn't come", "order_status"),
                ("agent", "Thanks! Order NH-11111 is with the carrier."),
            ],
        ),
        _dialogue(
            2,
            [
                ("customer", "where's my stuff? I'm jo@example.com", "order_status"),
                ("agent", "I found order NH-22222 for jo@example.com."),
            ],
        ),
        _dialogue(
            3,
            [
                ("customer", "restaurant phone?", "FindRestaurants"),
                ("agent", "Their number is 408-971-8523."),
            ],
        ),
    ]
    by_text = {e["text"]: e for e in build_bank(ds)}
    # the customer's own order number is a slot ...
    assert "Thanks! Order {order_number} is with the carrier." in by_text
    # ... another one, found in a back office, is a fact; so is a restaurant's phone number
    found = by_text["I found order NH-22222 for {email}."]
    assert found["kind"] == "agent_only"
    assert by_text["Their number is 408-971-8523."]["kind"] == "agent_only"


def test_corpus_words_tell_a_name_opening_a_sentence():
    ds = [
        _dialogue(i, [("customer", "find me a place to eat", "FindRestaurants"), ("agent", text)])
        for i, text in enumerate(["Furusato is a nice restaurant.", "Is that a nice place?"])
    ]
    kinds = {e["text"]: e["kind"] for e in build_bank(ds)}
    assert kinds == {
        "Furusato is a nice restaurant.": "agent_only",
        "Is that a nice place?": "safe",
    }
    assert "furusato" not in lower_case_words(ds) and "nice" in lower_case_words(ds)


def test_repeating_what_this_customer_said_is_needs_slots():
    ds = [
        _dialogue(
            i,
            [
                ("customer", f"a table in {city} please", "ReserveRestaurant"),
                ("agent", f"Sure, a table in {city}. For how many people?"),
            ],
        )
        for i, city in enumerate(["San Jose", "San Jose", "Palo Alto"])
    ]
    kinds = {e["text"]: e["kind"] for e in build_bank(ds)}
    assert kinds["Sure, a table in San Jose. For how many people?"] == "needs_slots"


def test_bank_config_is_validated():
    with pytest.raises(Exception, match="constant_share"):
        BankConfig(constant_share=2)


def test_a_slot_without_a_value_makes_a_reply_ineligible():
    tpl = "Of course, {name}. I've handed this over (ticket {ticket_number})."
    assert missing_slots(tpl, {"name": "Ana"}) == ["ticket_number"]
    assert fill_strict(tpl, {"name": "Ana"}) is None
    assert fill_strict(tpl, {"ticket_number": "T-12345"}) == (
        "Of course. I've handed this over (ticket T-12345)."
    )
    assert fill_strict("{name}, your order is late.", {}) == "Your order is late."
    # the lenient fill, for display, no longer doubles its fallbacks
    assert "ticket your ticket" not in fill(tpl, {})
    twice = fill("It shipped on {date} and arrives by {date}.", {})
    assert twice.count("confirmation email") == 1
