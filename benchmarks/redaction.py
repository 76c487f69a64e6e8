"""Redaction cost per message: `assistant.redact.redact` on short and long messages.

Every customer turn, reply, candidate and citation string goes through `redact` before it is
logged, so its cost is paid several times per turn. This times one call per message kind and
prints microseconds per call (the best of `--repeat` rounds, each the mean of many calls, so a
busy neighbour inflates the figures less).

    PYTHONPATH=$PWD python benchmarks/redaction.py
    PYTHONPATH=/path/to/other/checkout python benchmarks/redaction.py   # the same on other code

The messages are fixed (no randomness), so two checkouts are compared on the same input.
"""

from __future__ import annotations

import argparse
import json
import timeit

SHORT = "Hi, where is my order NH-48213? It was supposed to arrive yesterday."
SHORT_PII = (
    "I'm jo@example.com, card 4111 1111 1111 1111, call +44 20 7946 0958 about NH-48213, "
    "IBAN GB82 WEST 1234 5698 7654 32, SSN 123-45-6789"
)
# A long message as customers write them: prose with order numbers, dates, amounts and times.
_PARAGRAPH = (
    "I ordered the Nimbus Hub on 2024-05-01 (order NH-48213, $129.00) and it still says "
    "'processing'. The tracking page showed 01.05.2024 10:30 and then nothing for 2 weeks. "
    "I already restarted the hub at 192.168.1.10 and updated the firmware to 2.13.0. "
)
LONG = (_PARAGRAPH * 10).strip()
LONG_PII = LONG + " " + SHORT_PII
NO_DIGITS = (
    "the doorbell keeps ringing by itself at night and the app does not help " * 35
).strip()

MESSAGES = {
    "short": SHORT,
    "short, personal data": SHORT_PII,
    "long": LONG,
    "long, personal data": LONG_PII,
    "long, no digits": NO_DIGITS,
}


def measure(repeat: int, budget_s: float) -> list[dict]:
    """Microseconds per `redact` call for each message, best of `repeat` rounds."""
    from assistant.redact import redact

    rows = []
    for name, text in MESSAGES.items():
        redact(text)  # warm up (compiled patterns, caches)
        one = timeit.timeit(lambda text=text: redact(text), number=10) / 10
        number = max(1, int(budget_s / repeat / max(one, 1e-7)))
        rounds = timeit.repeat(lambda text=text: redact(text), number=number, repeat=repeat)
        rows.append(
            {
                "message": name,
                "chars": len(text),
                "us_per_call": round(min(rounds) / number * 1e6, 1),
                "redacted": redact(text)[1],
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="rounds per message; the best counts")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds to spend per message")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args()
    rows = measure(args.repeat, args.budget)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'message':<22} {'chars':>6} {'µs/call':>9}  kinds found")
    for r in rows:
        kinds = ", ".join(r["redacted"]) or "-"
        print(f"{r['message']:<22} {r['chars']:>6} {r['us_per_call']:>9.1f}  {kinds}")


if __name__ == "__main__":
    main()
