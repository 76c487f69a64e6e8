"""Audit of the reply bank: what it holds, and what the bot sends on a replay of held-out dialogues.

For a trained models directory (intent/ and ranker/, optionally a KB index), prints one JSON
object with:

- the bank: entries per kind (safe / needs_slots / agent_only) and per review status;
- a replay: each held-out dialogue's customer turns are sent in order to the engine, whose own
  replies form the history (a handoff ends the dialogue: a person takes over); for each source
  the share of turns, and for the replies the bot sends itself (bank and KB answers) the share
  that claim an action, state ungrounded specifics, or do not fit a chat.

The three audits are written here, separately from the runtime's rules (assistant/curation.py,
assistant/grounding.py), with plain patterns and substring checks, so the runtime is not
marking its own homework:

    action claim         "I/we (have) <past participle>", "has/have/was/were been <...>ed",
                         "is on its way / confirmed / booked ...", "Done", "I'll / let me <verb>"
                         outside an if/once/when clause, "someone will join/be with you"
    ungrounded specific  a token with a digit, an e-mail address, a month and day, or a run of
                         capitalised words inside a sentence, that neither this customer's
                         messages so far nor the KB's documents (raw files, case-insensitive)
                         contain
    chat-unfit           a salutation line, a sign-off line, a placeholder left in ({...} or
                         "[order number]"), or a fallback for a missing value ("ticket your
                         ticket", the confirmation-email date twice)

`--legacy` replays with the candidate step of main before this work (b113749: the top bank
reply filled with the old fallbacks, nothing filtered, the mined texts as they were) on the
same models, for a before/after comparison. `--rebank DATA` first re-mines the bank of a copy
of the models with this code (the trained encoder kept; the same 90/10 split `train ranker`
uses), for models trained before it.

    python benchmarks/bank_audit.py --models /tmp/demo-home/models --kb /tmp/demo-home/kb \\
        --docs assistant/demo_data/kb --data assistant/demo_data/dialogues_test.jsonl
    python benchmarks/bank_audit.py --split ../shared/datasets/sgd/train.jsonl --work runs/sgd \\
        --train-size 4000 --test-size 200
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# -- the audits (independent of assistant/curation.py and assistant/grounding.py) ---------------

_IRREGULAR = (
    "sent|made|done|found|set|got|put|gave|given|took|taken|paid|reset|booked|bought|shipped|"
    "left|sold|kept|brought|run|sorted|begun|began|spoken|written|told|seen|issued|opened"
)
CLAIMS = [
    re.compile(p, re.I | re.M)
    for p in (
        rf"\b(?:I|we)(?:'ve| have| had)?(?: just| already| now| also| successfully)? "
        rf"(?!(?:need|used|tried|hoped|wanted|noticed|understood|heard|saw|meant|asked)\b)"
        rf"(?:\w+ed|{_IRREGULAR})\b",
        r"\b(?:has|have|had|was|were|is|are)(?: now| just| already| successfully)? been \w+",
        r"\b(?:has|have) (?:shipped|arrived|gone)\b|\bwas (?:delivered|shipped|issued|charged|"
        r"refunded|cancel+ed|successful|processed|made|booked|confirmed)\b",
        r"\b(?:is|are) (?:now )?(?:on (?:its|their) way|confirmed|booked|reserved|scheduled|"
        r"cancel+ed|in transit|being \w+|packed|playing|off|active)\b",
        r"^\W*(?:done|all set|all done|all sorted|sorted)\b",
        r"\b(?:someone|a teammate|a colleague|a specialist|an agent|the team|our \w+ team)\b"
        r"[^.!?]{0,30}\b(?:will|'ll|is) (?:join|be with|reply|follow up|take over|be in touch)",
    )
]
PROMISE = re.compile(r"\b(?:I'll|I will|we'll|we will|let me) (?!know\b|be\b|help\b)\w+", re.I)
CONDITION = re.compile(r"\b(?:if|once|when|after|as soon as|until)\b[^.!?\n]*$", re.I)
SALUTATION = re.compile(r"\A\s*(?:hi|hello|hey|dear)\b[^\n]{0,40}\n", re.I)
SIGNOFF = re.compile(
    r"\n\s*(?:best|kind|warm)?\s*(?:regards|best|cheers|thanks|thank you|sincerely)\s*,?\s*"
    r"(?:\n[^\n]{1,60})?\s*\Z",
    re.I,
)
UNFILLED = re.compile(
    r"\{[a-z_]+\}|\[[a-z ]+\]|ticket your ticket|order your order|"
    r"confirmation email.*the date shown in your confirmation email",
    re.I | re.S,
)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)


def claims_action(text: str) -> str | None:
    """The first action claim in `text`, or None."""
    for p in CLAIMS:
        m = p.search(text.replace("’", "'"))
        if m:
            return m.group(0)
    for m in PROMISE.finditer(text.replace("’", "'")):
        if not CONDITION.search(text[: m.start()]):
            return m.group(0)
    return None


def chat_unfit(text: str) -> str | None:
    """Why `text` does not read as a chat message, or None."""
    for name, p in (("salutation", SALUTATION), ("sign-off", SIGNOFF), ("unfilled", UNFILLED)):
        m = p.search(text)
        if m:
            return f"{name}: {m.group(0).strip()[:40]}"
    return None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("–", "-").replace("—", "-").casefold())


def specifics(text: str) -> list[str]:
    """Digit tokens, e-mail addresses, dates and mid-sentence capitalised runs of `text`."""
    out = re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)
    rest = re.sub(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", " ", text)
    out += re.findall(rf"{_MONTH} \d{{1,2}}", rest)
    # a digit token, its unit cut off ("$4.99/month" -> "$4.99")
    out += [t.split("/")[0].strip(".,;:!?()*") for t in re.findall(r"\S*\d\S*", rest)]
    # capitalised runs not right after a sentence start
    for m in re.finditer(r"(?<=[a-z,;] )((?:[A-Z][\w'-]+)(?: [A-Z][\w'-]+)*)", rest):
        if m.group(1) not in ("I", "I'm", "I've", "I'll", "I'd") and not re.fullmatch(
            rf"{_MONTH}|[A-Z]{{2,4}}", m.group(1)
        ):
            out.append(m.group(1))
    return [s for s in out if s]


def ungrounded(text: str, haystack: str) -> list[str]:
    """The specifics of `text` that `haystack` (normalised) does not contain."""
    missing = []
    for s in specifics(text):
        n = _norm(s)
        digits = re.sub(r"\D", "", n)
        if n in haystack:
            continue
        if digits and len(digits) >= 7 and digits in re.sub(r"\D", "", haystack):
            continue  # a phone number written differently
        missing.append(s)
    return missing


# -- the replay ---------------------------------------------------------------------------------


def replay(engine, dialogues, kb_text: str, legacy: bool) -> dict:
    sources: Counter[str] = Counter()
    turns = answered = 0
    flagged = {"action": [], "ungrounded": [], "unfit": []}
    per_source: dict[str, Counter] = {}
    matches = 0
    sent_texts: Counter[str] = Counter()
    from assistant.curation import for_chat
    from assistant.placeholders import templatize

    for d in dialogues:
        history: list[tuple[str, str]] = []
        low = 0
        said: list[str] = []
        for i, t in enumerate(d.turns):
            if t.role != "customer":
                continue
            said.append(t.text)
            dec = engine.decide(history, t.text, low)
            low = low + 1 if dec.low_confidence else 0
            turns += 1
            sources[dec.source] += 1
            history += [("customer", t.text), ("agent", dec.reply)]
            if dec.source in ("ranker", "kb"):
                answered += 1
                c = per_source.setdefault(dec.source, Counter())
                c["sent"] += 1
                checks = {
                    "action": claims_action(dec.reply),
                    "ungrounded": ungrounded(dec.reply, _norm(" ".join(said)) + " " + kb_text),
                    "unfit": chat_unfit(dec.reply),
                }
                for key, found in checks.items():
                    if found:
                        c[key] += 1
                        if dec.source == "ranker":
                            flagged[key].append(
                                {"dialogue": d.id, "reply": dec.reply[:160], "why": found}
                            )
                if dec.source == "ranker":
                    sent_texts[dec.reply] += 1
                    true = next((x.text for x in d.turns[i + 1 : i + 2] if x.role == "agent"), "")
                    if true and templatize(for_chat(true)) == templatize(for_chat(dec.reply)):
                        matches += 1
            if dec.handoff:
                break  # a person takes over
    ranker = per_source.get("ranker", Counter())
    return {
        "dialogues": len(dialogues),
        "customer_turns": turns,
        "source_share": {k: round(v / turns, 4) for k, v in sorted(sources.items())},
        "bot_answered_share": round(answered / turns, 4) if turns else 0.0,
        "bank_replies_sent": ranker["sent"],
        "bank_rates": {
            k: round(ranker[k] / ranker["sent"], 4) if ranker["sent"] else 0.0
            for k in ("action", "ungrounded", "unfit")
        },
        "bank_counts": {k: ranker[k] for k in ("action", "ungrounded", "unfit")},
        "kb_counts": dict(per_source.get("kb", Counter())),
        "bank_exact_template_match": round(matches / ranker["sent"], 4) if ranker["sent"] else 0,
        "most_sent": [[t[:100], n] for t, n in sent_texts.most_common(8)],
        "examples": {k: v[:5] for k, v in flagged.items()},
    }


# -- main's candidate step before this work (b113749), for --legacy -------------------------------

_OLD_FALLBACK = {
    "order_number": "your order",
    "ticket_number": "your ticket",
    "email": "the email address on your account",
    "phone": "the phone number on your account",
    "date": "the date shown in your confirmation email",
}


def _old_fill(template: str, slots: dict[str, str]) -> str:
    out = template
    if "{name}" in out:
        out = (
            out.replace("{name}", slots["name"])
            if "name" in slots
            else re.sub(r",?\s*\{name\}", "", out)
        )
    if "order_number" not in slots:
        out = re.sub(
            r"\b(?:your )?order \{order_number\}",
            lambda m: "Your order" if m.group(0)[0].isupper() else "your order",
            out,
            flags=re.I,
        )
    for key, default in _OLD_FALLBACK.items():
        out = out.replace("{" + key + "}", slots.get(key, default))
    return out


def make_legacy(engine, ranker_dir: Path) -> None:
    """Give `engine` main's old candidate step and the bank's texts as they were mined."""
    from assistant.reply import Candidate

    raw = [json.loads(line)["text"] for line in (ranker_dir / "bank.jsonl").open()]
    for e, text in zip(engine.bank.entries, raw):
        e.text = text

    def old_candidates(ctx_emb, slots, customer=None, passages=None):
        out = []
        for i, score in engine.bank.top(ctx_emb, engine.config.n_candidates):
            e = engine.bank.entries[i]
            out.append(Candidate(_old_fill(e.text, slots), score, list(e.intents)[:3]))
        return out

    engine._candidates = old_candidates


# -- re-mining the bank of a copy of trained models ---------------------------------------------


def rebank(models: Path, data: Path, out: Path) -> Path:
    """Copy `models` to `out` and re-mine its ranker's bank from `data` with this code (the same
    90/10 split `train ranker` makes); the manifest's checksums follow. Returns `out`."""
    from assistant.bank import BankEntry, ResponseBank
    from assistant.ranker import ResponseRanker
    from assistant.review import Reviews, reviews_path
    from kb.manifest import MANIFEST_FILE, file_checksums, write_json_atomic
    from training.bank import build_bank
    from training.data import load_dialogues
    from training.split import split_dialogues

    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(models, out)
    ranker_dir = out / "ranker"
    manifest = json.loads((ranker_dir / MANIFEST_FILE).read_text())
    cfg = manifest.get("config", {})
    train, _ = split_dialogues(
        load_dialogues(data), cfg.get("val_fraction", 0.1), cfg.get("seed", 0)
    )
    reviews = Reviews.load(reviews_path(ranker_dir))
    entries = [BankEntry(**e) for e in build_bank(train, reviews=reviews)]
    bank = ResponseBank.embed(entries, ResponseRanker.load(ranker_dir))
    bank.save(ranker_dir)
    manifest["bank"] = {**bank.manifest(), "reviews": len(reviews.decisions)}
    manifest["bank_size"] = len(entries)
    names = [n for n in manifest.get("checksums", {})]
    manifest["checksums"] = file_checksums(ranker_dir, names)
    write_json_atomic(ranker_dir / MANIFEST_FILE, manifest)
    return out


def split(data: Path, out: Path, train_size: int, test_size: int, seed: int) -> None:
    """Write `out/train.jsonl` and `out/test.jsonl`: 10% of `data`'s dialogues held out by id
    (`training.split`, seeded), each part cut to the given size (0: all); and
    `out/intents.csv` from the training part (`write_intents`)."""
    import random

    from training.data import load_dialogues
    from training.split import split_dialogues

    train, test = split_dialogues(load_dialogues(data), 0.1, seed)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    for name, part, size in (("train", train, train_size), ("test", test, test_size)):
        if size and size < len(part):
            part = sorted(rng.sample(part, size), key=lambda d: d.id)
        with open(out / f"{name}.jsonl", "w") as fh:
            for d in part:
                turns = [
                    {"role": t.role, "text": t.text, **({"intent": t.intent} if t.intent else {})}
                    for t in d.turns
                ]
                fh.write(json.dumps({"id": d.id, "turns": turns}) + "\n")
        print(f"{out / name}.jsonl: {len(part)} dialogues")
        if name == "train":
            write_intents(part, out / "intents.csv")


def write_intents(dialogues, path: Path) -> None:
    """An intent CSV for the engine's classifier: each dialogue's first customer turn with its
    intent (SGD labels every later turn with the dialogue state's intent, so "that works for
    me." carries twenty labels), texts seen with two labels left out."""
    import csv

    labels: dict[str, set[str]] = {}
    for d in dialogues:
        first = next((t for t in d.turns if t.role == "customer" and t.intent), None)
        if first is not None:
            labels.setdefault(first.text, set()).add(first.intent)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        rows = [(t, next(iter(ls))) for t, ls in labels.items() if len(ls) == 1]
        w.writerows(rows)
    print(f"{path}: {len(rows)} opening messages")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--split",
        type=Path,
        default=None,
        help="only write WORK/train.jsonl and WORK/test.jsonl from this file",
    )
    ap.add_argument("--train-size", type=int, default=0, help="with --split: dialogues kept")
    ap.add_argument("--test-size", type=int, default=0, help="with --split: dialogues held out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", type=Path, help="directory with intent/, ranker/")
    ap.add_argument("--kb", type=Path, default=None, help="KB index directory (optional)")
    ap.add_argument("--docs", type=Path, default=None, help="the KB's documents (raw files)")
    ap.add_argument("--data", type=Path, help="held-out dialogues JSONL")
    ap.add_argument("--limit", type=int, default=0, help="replay at most this many dialogues")
    ap.add_argument("--legacy", action="store_true", help="main's candidate step (before)")
    ap.add_argument(
        "--rebank",
        type=Path,
        default=None,
        help="re-mine the bank from these training dialogues (into --work)",
    )
    ap.add_argument(
        "--work",
        type=Path,
        default=Path("/tmp/bank-audit"),
        help="where --rebank copies the models",
    )
    args = ap.parse_args()
    if args.split:
        split(args.split, args.work, args.train_size, args.test_size, args.seed)
        return
    if not (args.models and args.data):
        ap.error("--models and --data are needed (or --split)")

    from assistant.engine import DialogueEngine
    from training.data import load_dialogues

    models = args.models
    t0 = time.perf_counter()
    if args.rebank:
        models = rebank(args.models, args.rebank, args.work / "models")
    rebank_s = time.perf_counter() - t0
    engine = DialogueEngine.load(models, kb_dir=args.kb)
    bank = engine.bank
    kinds = Counter(e.kind for e in bank.entries)
    if args.legacy:
        make_legacy(engine, models / "ranker")
    kb_text = ""
    if args.docs:
        kb_text = " ".join(
            _norm(p.read_text(errors="replace"))
            for p in sorted(args.docs.rglob("*"))
            if p.is_file()
        )
    dialogues = load_dialogues(args.data)
    if args.limit:
        dialogues = dialogues[: args.limit]
    t1 = time.perf_counter()
    result = {
        "benchmark": "bank_audit",
        "models": str(args.models),
        "rebanked": bool(args.rebank),
        "legacy_candidates": args.legacy,
        "data": str(args.data),
        "python": platform.python_version(),
        "bank": {
            "entries": len(bank),
            "kind_share": {k: round(v / len(bank), 4) for k, v in sorted(kinds.items())},
            "kind_counts": dict(kinds),
            "statuses": dict(Counter(e.status for e in bank.entries)),
        },
        "replay": replay(engine, dialogues, kb_text, args.legacy),
        "seconds": {"rebank": round(rebank_s, 1), "replay": round(time.perf_counter() - t1, 1)},
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
