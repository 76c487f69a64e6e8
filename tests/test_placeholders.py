"""assistant/placeholders.py and training/bank.py"""

from __future__ import annotations

from assistant.placeholders import extract_slots, fill, templatize
from training.bank import build_bank
from training.data import Dialogue, Turn


def test_templatize_replaces_details():
    t = templatize(
        "Hi Maria, order NH-48213 is on its way; ticket T-90412, mail maria@example.com."
    )
    assert (
        t == "Hi {name}, order {order_number} is on its way; ticket {ticket_number}, mail {email}."
    )
    assert templatize("Thanks, Nimbus Plus is great!") == "Thanks, Nimbus Plus is great!"


def test_fill_known_and_unknown():
    tpl = "Thanks, {name}! I've checked {order_number}."
    assert (
        fill(tpl, {"name": "Ana", "order_number": "NH-10001"})
        == "Thanks, Ana! I've checked NH-10001."
    )
    assert fill(tpl, {}) == "Thanks! I've checked your order."


def test_extract_slots_latest_wins():
    s = extract_slots(["I'm Leo", "order nh-11111", "sorry, it's NH-22222"])
    assert s == {"name": "Leo", "order_number": "NH-22222"}
    assert "name" not in extract_slots(["i'm not happy"])


def test_bank_dedupes_and_counts():
    def mk(i, name):
        return Dialogue(
            f"d{i}",
            [
                Turn("customer", "where is my order", "order_status"),
                Turn("agent", f"Hi {name}, could you share your order number?"),
                Turn("customer", "NH-12345"),
                Turn("agent", "Thanks! Order NH-12345 ships tomorrow."),
            ],
        )

    bank = build_bank([mk(1, "Ana"), mk(2, "Bo"), mk(3, "Cy")])
    assert bank[0]["text"] == "Hi {name}, could you share your order number?"
    assert bank[0]["count"] == 3 and bank[0]["intents"] == {"order_status": 3}
    assert bank[1]["text"] == "Thanks! Order {order_number} ships tomorrow."
    assert len(bank) == 2


def test_dates_become_placeholders():
    t = templatize("It arrives Monday, February 9; it shipped on February 2, 2026 (2026-02-02).")
    assert t == "It arrives {date}; it shipped on {date} ({date})."


def test_unknown_order_number_reads_naturally():
    assert fill("The refund for order {order_number} went out.", {}) == (
        "The refund for your order went out."
    )
    assert fill("Order {order_number} shipped.", {}) == "Your order shipped."
