"""assistant/pii.py: one set of detectors, and the two places that use it agree.

Redaction (`redact`) and reply templates (`templatize`, `extract_slots`) must find the same
e-mail addresses and phone numbers: a number the log hides is also one a template does not
bake in, and one a customer gives is one the reply can use. Cards, IBANs and SSNs are found
whole in every written form docs/privacy.md lists, and nothing in `NOT_PERSONAL` is found.
"""

from __future__ import annotations

import pytest

from assistant.pii import (
    find_cards,
    find_emails,
    find_ibans,
    find_phones,
    find_ssns,
    replace_spans,
)
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
    # written without separators, or with the last seven digits joined
    "5550104242",
    "15550104242",
    "555-0104242",
    "555 0104242",
    "1-555-0104242",
    "07700900123",
    "0612345678",
]

# Written with spaces around the "@", as people do to dodge spam filters.
SPACED_EMAILS = ["jo @ example.com", "jo@ example.com", "jo @example.com", "jo  @  example.com"]

# One Luhn-valid number written every way the docs list.
CARDS = [
    "4111111111111111",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4111.1111.1111.1111",
    "4111  1111  1111  1111",
    "4111 - 1111 - 1111 - 1111",
    "4111/1111/1111/1111",
    "4111 / 1111 / 1111 / 1111",
    "3782.822463.10005",  # Amex, 4-6-5
    "4000 0000 0000 0000 006",  # 19 digits, short last group
]

# Valid IBANs (checksum and country length), bare and in groups of four, any case.
IBANS = [
    "GB82 WEST 1234 5698 7654 32",
    "GB82WEST12345698765432",
    "gb82 west 1234 5698 7654 32",
    "DE89370400440532013000",
    "DE89 3704 0044 0532 0130 00",
    "FR14 2004 1010 0505 0001 3M02 606",
    "NL91ABNA0417164300",
    "BE68 5390 0754 7034",
    "CH93 0076 2011 6238 5295 7",
    "NO93 8601 1117 947",
    "IT60 X054 2811 1010 0000 0123 456",
    "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
]

SSNS = ["123-45-6789", "123 45 6789", "078-05-1120", "900-70-1234"]

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
    "meet @ home, price @ 3.99",
    # bare 10-digit references after a label are not phones
    "order 5550104242",
    "order #5550104242",
    "order number: 5550104242",
    "tracking number 9400111899",
    "invoice no. 2025010001",
    "ref 2025010001",
    "#5550104242",
    # other long numbers
    "timestamp 1714557600",
    "ms 1714557600123",
    "serial 0001234567",
    "1,234,567,890 rows",
    "years 2023 2024 2025 2026",
    "years 1998 1999 2000 2001",
    "dates 01/05/2024 02/06/2024 03/07/2024",
    "from 2024/05/01 to 2024/06/01",
    "amount 1.299.000.000 EUR",
    "at 10:30 / 11:45 / 12:00",
    "ip 192.168.100.200 and 10.0.0.1",
    "build 2.13.0.1234567",
    "9 digits 123456789",
    # shapes of an SSN or an IBAN that are not one
    "never issued 000-12-3456, 666-12-3456, 123-00-4567, 123-45-0000",
    "checksum wrong GB82 WEST 1234 5698 7654 33",
    "checksum wrong DE89370400440532013001",
    "licence key AB12 CDEF GHIJ KLMN OPQR",
    "part DE12 3456",
    # a conversation id the log made
    "conversation 3f2a9b1c4d5e6f708192a3b4c5d6e7f8",
]

FINDERS = (find_emails, find_phones, find_cards, find_ibans, find_ssns)


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


@pytest.mark.parametrize("email", SPACED_EMAILS)
def test_an_email_with_spaces_around_the_at_is_found_whole(email):
    text = f"mail {email}, thanks"
    assert [text[s:e] for s, e in find_emails(text)] == [email]
    assert redact(text) == ("mail [EMAIL], thanks", ["email"])
    assert templatize(text) == "mail {email}, thanks"
    assert extract_slots([text]) == {"email": "jo@example.com"}  # filled in without spaces


@pytest.mark.parametrize("card", CARDS)
def test_a_card_is_found_whole_in_every_written_form(card):
    text = f"my card is {card}, exp 12/25"
    assert [text[s:e] for s, e in find_cards(text)] == [card]
    assert redact(text) == ("my card is [CARD], exp 12/25", ["card"])


@pytest.mark.parametrize("iban", IBANS)
def test_an_iban_is_found_whole(iban):
    text = f"IBAN: {iban}. Thanks"
    assert [text[s:e] for s, e in find_ibans(text)] == [iban]
    assert redact(text) == ("IBAN: [IBAN]. Thanks", ["iban"])


@pytest.mark.parametrize("ssn", SSNS)
def test_an_ssn_is_found_whole(ssn):
    text = f"my SSN is {ssn}, ok"
    assert [text[s:e] for s, e in find_ssns(text)] == [ssn]
    assert redact(text) == ("my SSN is [SSN], ok", ["ssn"])


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_order_numbers_dates_and_amounts_are_not_personal(text):
    assert [find(text) for find in FINDERS] == [[]] * len(FINDERS)
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


def test_a_labelled_reference_and_a_phone_in_one_message():
    text = "order number 5550104242, my number is 5550104243"
    assert [text[s:e] for s, e in find_phones(text)] == ["5550104243"]


def test_every_kind_in_one_message_is_found_once():
    text = (
        "jo @ example.com, 4111.1111.1111.1111, GB82 WEST 1234 5698 7654 32, "
        "123-45-6789, 555-0104242, order NH-48213 on 2024-05-01"
    )
    assert redact(text) == (
        "[EMAIL], [CARD], [IBAN], [SSN], [PHONE], order NH-48213 on 2024-05-01",
        ["email", "phone", "card", "iban", "ssn"],
    )


def test_replace_spans():
    assert replace_spans("a 12 b 34 c", [(2, 4), (7, 9)], "#") == "a # b # c"
    assert replace_spans("abc", [], "#") == "abc"
