"""assistant/pii.py: one set of detectors, and the two places that use it agree.

Redaction (`redact`) and reply templates (`templatize`, `extract_slots`) must find the same
e-mail addresses and phone numbers: a number the log hides is also one a template does not
bake in, and one a customer gives is one the reply can use.
"""

from __future__ import annotations

import pytest

from assistant.pii import find_cards, find_emails, find_phones, replace_spans
from assistant.placeholders import extract_slots, templatize
from assistant.redact import redact

EMAILS = [
    "jo@example.com",
    "Jo.Doe+orders@mail.example.co.uk",
    "first_last-99@sub.domain.io",
    "UPPER@EXAMPLE.ORG",
]

PHONES = [
    # US / NANP, the only shapes the template pattern knew before
    "+1 (555) 010-4242",
    "+1-555-010-4242",
    "(555) 010-4242",
    "555-010-4242",
    "555.010.4242",
    "1-800-555-0199",
    # international, with the country code
    "+15550104242",
    "+44 20 7946 0958",
    "+44 (0)20 7946 0958",
    "+33 1 47 05 25 45",
    "+49 30 1234567",
    "+61 2 9011 5756",
    "+60 3-2692 9298",
    "+91 11 4110 5555",
    "+254 703 049000",
    # national, with a trunk 0, and local
    "020 7946 0958",
    "07700 900123",
    "06 12 34 56 78",
    "010-4242",
]

# Numbers customers and agents write that are not phone numbers, e-mails or cards.
NOT_PERSONAL = [
    "order NH-48213",
    "order ORD-1234567",
    "order SO-12345678",
    "order #1234567",
    "ticket T-90412",
    "invoice INV-2024-000123",
    "tracking 1Z999AA10123456784",
    "ids 1234567 and 7654321",
    "card-like 4111 1111 1111 1112",  # 16 digits that fail the Luhn check
    # dates and times
    "ordered on 2024-05-01",
    "ordered on 01-05-2024",
    "ordered on 01 05 2024",
    "delivered 01.05.2024 10:30",
    "on 12/25/2024",
    "open 10:30-18:00",
    "support 7am-10pm ET",
    "years 2023 2024 2025",
    # amounts
    "$1,299.00",
    "1.299,00 €",
    "1 299 000,50 €",
    "total 12 500 000 EUR",
    "CHF 1'299.00",
    "¥1,000,000",
    "express is $12.95, 1-2 business days",
    # versions, addresses
    "firmware 2.13.0",
    "hub at 192.168.1.10",
    "ISBN 978-3-16-148410-0",
    "zip 94043-1351",
    "an @ sign alone, a@b, and user@localhost",
]


@pytest.mark.parametrize("phone", PHONES)
def test_a_phone_number_is_found_whole_by_every_user(phone):
    text = f"you can reach me on {phone} after five"
    (span,) = find_phones(text)
    assert text[span[0] : span[1]] == phone
    assert redact(text) == ("you can reach me on [PHONE] after five", ["phone"])
    assert templatize(text) == "you can reach me on {phone} after five"
    assert extract_slots([text]) == {"phone": phone}


@pytest.mark.parametrize("email", EMAILS)
def test_an_email_is_found_whole_by_every_user(email):
    text = f"mail {email}, thanks"
    assert [text[s:e] for s, e in find_emails(text)] == [email]
    assert redact(text) == ("mail [EMAIL], thanks", ["email"])
    assert templatize(text) == "mail {email}, thanks"
    assert extract_slots([text]) == {"email": email}


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_order_numbers_dates_and_amounts_are_not_personal(text):
    assert find_phones(text) == [] and find_emails(text) == [] and find_cards(text) == []
    assert redact(text) == (text, [])
    assert "{phone}" not in templatize(text) and "{email}" not in templatize(text)
    assert not {"phone", "email"} & set(extract_slots([text]))


def test_latest_phone_wins_in_slots():
    slots = extract_slots(["call 555-010-4242", "sorry, it's +44 20 7946 0958 now"])
    assert slots["phone"] == "+44 20 7946 0958"


def test_cards_are_found_between_other_numbers():
    text = "card 4111 1111 1111 1111 exp 12 25 and 5500-0000-0000-0004"
    assert [text[s:e] for s, e in find_cards(text)] == [
        "4111 1111 1111 1111",
        "5500-0000-0000-0004",
    ]


def test_replace_spans():
    assert replace_spans("a 12 b 34 c", [(2, 4), (7, 9)], "#") == "a # b # c"
    assert replace_spans("abc", [], "#") == "abc"
