"""Tests for assistant/redact.py: what is replaced, what is left alone, the config, and the
check that keeps personal data out of conversation ids."""

from __future__ import annotations

import pytest

from assistant.errors import ConfigError
from assistant.redact import RedactionConfig, check_conversation_id, redact

EMAILS = [
    "jo@example.com",
    "Jo.Doe+orders@mail.example.co.uk",
    "first_last-99@sub.domain.io",
    "UPPER@EXAMPLE.ORG",
]

PHONES = [
    "+1 (555) 010-4242",  # the demo company's own format
    "+1 555 010 4242",
    "+1-555-010-4242",
    "+15550104242",
    "(555) 010-4242",
    "(555)010-4242",
    "555-010-4242",
    "555.010.4242",
    "555 010 4242",
    "1-800-555-0199",
    "010-4242",  # 7 digits with a separator
    "+44 20 7946 0958",
    "+44 (0)20 7946 0958",
    "020 7946 0958",
    "07700 900123",
    "+33 6 12 34 56 78",
    "06 12 34 56 78",
    "+49 30 1234567",
]

# Luhn-valid test numbers of the common brands and lengths.
CARDS = [
    "4111 1111 1111 1111",  # Visa, spaces
    "4111-1111-1111-1111",  # dashes
    "4111111111111111",  # bare
    "5500 0000 0000 0004",  # Mastercard
    "3782 822463 10005",  # Amex, 15 digits in 4-6-5 groups
    "4222222222222",  # 13 digits
    "6011 0000 0000 0004",  # Discover
    "4000 0000 0000 0000 006",  # 19 digits
]

UNTOUCHED = [
    "Where is my order NH-48213?",
    "ticket T-90412 is still open",
    "orders NH-48213 and NH-48214",
    "orders 48213 48214",
    "it's been 2 weeks",
    "Plus costs $49/year or $4.99/month",
    "express is $12.95, 1-2 business days",
    "refunds take 5-10 business days",
    "$1,299.00",
    "support 7am-10pm ET",
    "ordered on 2024-05-01",
    "ordered on 01-05-2024",
    "delivered 01.05.2024 10:30",
    "on 12/25/2024",
    "firmware 2.13.0",
    "hub at 192.168.1.10",
    "1234567",
    "years 2023 2024 2025",
    "tracking 1Z999AA10123456784",
    "4111 1111 1111 1112",  # 16 digits, fails Luhn: not a card, and not a phone either
    "4111111111111112",
    "an @ sign alone, a@b, and user@localhost",
    "",
]


@pytest.mark.parametrize("email", EMAILS)
def test_emails_are_replaced(email):
    text, kinds = redact(f"Reach me at {email}, thanks.")
    assert text == "Reach me at [EMAIL], thanks."
    assert kinds == ["email"]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_numbers_are_replaced(phone):
    text, kinds = redact(f"call me on {phone} today")
    assert text == "call me on [PHONE] today"
    assert kinds == ["phone"]


@pytest.mark.parametrize("card", CARDS)
def test_luhn_valid_cards_are_replaced(card):
    text, kinds = redact(f"my card is {card}.")
    assert text == "my card is [CARD]."
    assert kinds == ["card"]


@pytest.mark.parametrize("text", UNTOUCHED)
def test_order_ticket_and_short_numbers_are_untouched(text):
    assert redact(text) == (text, [])


def test_phone_at_end_of_sentence_keeps_punctuation():
    assert redact("Call 555-010-4242. Thanks")[0] == "Call [PHONE]. Thanks"
    assert redact("Call me at 555-010-4242: thanks")[0] == "Call me at [PHONE]: thanks"
    assert redact("mail jo@example.com.")[0] == "mail [EMAIL]."


def test_card_next_to_other_numbers():
    assert redact("card 4111 1111 1111 1111 exp 12 25")[0] == "card [CARD] exp 12 25"
    assert redact("4111111111111111 5500000000000004") == ("[CARD] [CARD]", ["card"])


def test_everything_in_one_message_kinds_in_fixed_order():
    msg = (
        "Order NH-48213, card 4111 1111 1111 1111, call +1 (555) 010-4242 "
        "or mail jo@example.com or ann@example.com"
    )
    text, kinds = redact(msg)
    assert text == "Order NH-48213, card [CARD], call [PHONE] or mail [EMAIL] or [EMAIL]"
    assert kinds == ["email", "phone", "card"]


def test_redaction_is_idempotent():
    once, _ = redact("jo@example.com 4111 1111 1111 1111 +44 20 7946 0958")
    assert redact(once) == (once, [])


def test_each_kind_can_be_turned_off():
    msg = "jo@example.com 4111 1111 1111 1111 555-010-4242"
    assert redact(msg, RedactionConfig(emails=False)) == (
        "jo@example.com [CARD] [PHONE]",
        ["phone", "card"],
    )
    assert redact(msg, RedactionConfig(phones=False)) == (
        "[EMAIL] [CARD] 555-010-4242",
        ["email", "card"],
    )
    assert redact(msg, RedactionConfig(cards=False))[0].startswith("[EMAIL] 4111 1111 1111 1111")
    off = RedactionConfig(emails=False, phones=False, cards=False)
    assert redact(msg, off) == (msg, [])


def test_cards_off_does_not_turn_a_card_into_a_phone():
    text, kinds = redact("card 4111 1111 1111 1111", RedactionConfig(cards=False))
    assert text == "card 4111 1111 1111 1111"
    assert kinds == []


def test_ibans_and_ssns_can_be_turned_off():
    msg = "IBAN DE89370400440532013000, SSN 123-45-6789"
    assert redact(msg) == ("IBAN [IBAN], SSN [SSN]", ["iban", "ssn"])
    assert redact(msg, RedactionConfig(ibans=False)) == (
        "IBAN DE89370400440532013000, SSN [SSN]",
        ["ssn"],
    )
    # Off means kept as written, not half-taken by another detector.
    assert redact(msg, RedactionConfig(ibans=False, ssns=False)) == (msg, [])


def test_default_config_is_everything_on():
    config = RedactionConfig()
    assert (config.emails, config.phones, config.cards, config.ibans, config.ssns) == (True,) * 5
    assert redact("jo@example.com", None) == ("[EMAIL]", ["email"])


@pytest.mark.parametrize("field", ["emails", "phones", "cards", "ibans", "ssns"])
def test_config_rejects_non_bool(field):
    with pytest.raises(ConfigError, match=field):
        RedactionConfig(**{field: "yes"})


def test_unicode_digits_and_text_survive():
    text = "Café ☕ order NH-48213 — ٤١١١ ١١١١"
    assert redact(text) == (text, [])


def test_long_adversarial_inputs_finish():
    # Would hang with a backtracking pattern; no timing is asserted.
    for text in ["1" * 20000, "1 " * 5000, "+" + "1" * 20000, "a" * 20000 + "@", "a@" * 5000]:
        out, _ = redact(text)
        assert isinstance(out, str)


# -- conversation ids -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cid", ["NH-48213", "support-2024-05-01", "T-90412", "3f2a9b1c4d5e6f708192a3b4c5d6e7f8"]
)
def test_ordinary_conversation_ids_pass(cid):
    assert check_conversation_id(cid) == cid


@pytest.mark.parametrize(
    ("cid", "kind"),
    [
        ("jo@example.com", "email"),
        ("jo @ example.com", "email"),
        ("5550104242", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("4111111111111111", "card"),
        ("DE89370400440532013000", "iban"),
        ("123-45-6789", "ssn"),
    ],
)
def test_conversation_ids_with_personal_data_are_refused_without_echoing_it(cid, kind):
    with pytest.raises(ConfigError, match=f"personal data \\({kind}\\)") as info:
        check_conversation_id(cid)
    assert cid not in str(info.value)


def test_conversation_id_check_follows_the_config():
    assert check_conversation_id("5550104242", RedactionConfig(phones=False)) == "5550104242"
    # An address is refused by its form even when e-mail redaction is off: '@' is not allowed.
    with pytest.raises(ConfigError, match="is not valid"):
        check_conversation_id("jo@example.com", RedactionConfig(emails=False))
