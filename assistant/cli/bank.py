"""`assistant bank ...`: review the reply bank (approve, edit, bar) and its CSV round trip."""

from __future__ import annotations

import json

import click

from assistant.cli import cli, echo, timed

_models = click.option(
    "--models",
    "models_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory with ranker/ (default: the user data directory's models/).",
)
_by = click.option(
    "--by", default=None, help="Who decides, recorded with the decision (default: your login)."
)


def _open(models_dir):
    """(bank, reviews) of a models directory (or of a ranker directory given directly)."""
    from pathlib import Path

    from assistant.bank import ENTRIES_FILE, ResponseBank
    from assistant.errors import ModelError
    from assistant.paths import user_home
    from assistant.review import Reviews, reviews_path
    from assistant.versions import resolve_models

    models = Path(models_dir).expanduser() if models_dir else user_home() / "models"
    if (models / ENTRIES_FILE).is_file():  # a ranker directory given directly
        ranker, root = models, models.parent
    else:  # a models directory, versioned or not: its current version's ranker
        resolved = resolve_models(models)
        ranker, root = resolved.path / "ranker", resolved.root or resolved.path
    if not (ranker / ENTRIES_FILE).is_file():
        raise ModelError(
            f"{models}: no reply bank there (no ranker/{ENTRIES_FILE}). Pass the models "
            "directory, or train a ranker with `assistant train ranker`."
        )
    bank = ResponseBank.load(ranker, reviews=False)
    # kept at the top of the models directory: every version (and retraining) sees it
    reviews = Reviews.load(reviews_path(ranker, root=root))
    reviews.apply(bank.entries)
    return bank, reviews


def _find(bank, ident: str):
    """The entry whose id is `ident` or starts with it (at least 4 characters)."""
    from assistant.errors import ConfigError

    ident = ident.strip().lower()
    found = [e for e in bank.entries if e.id == ident] or (
        [e for e in bank.entries if e.id.startswith(ident)] if len(ident) >= 4 else []
    )
    if len(found) != 1:
        what = "no entry" if not found else f"{len(found)} entries"
        raise ConfigError(
            f"{what} with id {ident!r} in this bank; see the ids with "
            "`assistant bank review --list` (a prefix of 4 or more characters is enough)."
        )
    return found[0]


def _line(e) -> str:
    text = e.text.replace("\n", " ⏎ ")
    text = text if len(text) <= 90 else text[:89] + "…"
    return f"{e.id}  {e.kind:<11} {e.status:<10} {e.count:>5}  {text}"


def _entry_json(e) -> dict:
    return {**e.to_json(), "agent_only": e.agent_only}


@cli.group("bank")
def bank_group() -> None:
    """Review the reply bank: what the bot may send, what stays for human agents.

    Example:

        assistant bank review --models models --list --kind agent_only
    """


@bank_group.command("review")
@_models
@click.option("--list", "list_", is_flag=True, help="List entries (most used first).")
@click.option(
    "--kind",
    type=click.Choice(["safe", "needs_slots", "agent_only"]),
    default=None,
    help="With --list: only this kind.",
)
@click.option(
    "--status",
    type=click.Choice(["unreviewed", "approved", "edited", "barred"]),
    default=None,
    help="With --list: only entries with this status.",
)
@click.option("--grep", default=None, help="With --list: only entries whose text has this.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="With --list: at most this many rows (0: all).",
)
@click.option("--show", "show_ids", multiple=True, metavar="ID", help="Show one entry in full.")
@click.option(
    "--approve",
    "approve_ids",
    multiple=True,
    metavar="ID",
    help="Approve: the bot may send it as it is (repeatable).",
)
@click.option(
    "--bar",
    "bar_ids",
    multiple=True,
    metavar="ID",
    help="Bar: never sent, never suggested (repeatable).",
)
@click.option(
    "--edit",
    "edits",
    multiple=True,
    nargs=2,
    metavar="ID TEXT",
    help="Replace the text (placeholders such as {order_number} allowed); the bot "
    "may send the new text.",
)
@click.option(
    "--reset",
    "reset_ids",
    multiple=True,
    metavar="ID",
    help="Forget the decision on an entry (back to the rules' verdict).",
)
@_by
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per line).")
@timed
def review_cmd(
    models_dir,
    list_,
    kind,
    status,
    grep,
    limit,
    show_ids,
    approve_ids,
    bar_ids,
    edits,
    reset_ids,
    by,
    as_json,
) -> None:
    """List, approve, edit or bar reply-bank entries.

    Decisions are kept in bank_reviews.json in the models directory, keyed by each entry's
    id (a hash of its text): the next `ask` or chat start uses them, and retraining the
    ranker applies them to the new bank. Without an action, prints a summary.

    Example:

    \b
        assistant bank review --models models --list --kind agent_only --limit 20
        assistant bank review --models models --approve 3f2a9c --bar 77d0e1
        assistant bank review --models models --edit 3f2a9c "Which order is it?"
    """
    from collections import Counter

    bank, reviews = _open(models_dir)
    changed = []
    for ids, what in ((approve_ids, "approved"), (bar_ids, "barred"), (reset_ids, "unreviewed")):
        for ident in ids:
            e = _find(bank, ident)
            reviews.decide(e, what, by=by)
            changed.append((e, what))
    for ident, text in edits:
        e = _find(bank, ident)
        reviews.decide(e, "edited", text=text, by=by)
        changed.append((e, "edited"))
    if changed:
        reviews.save()
        reviews.apply(bank.entries)
        for e, what in changed:
            if as_json:
                echo(json.dumps({"id": e.id, "status": e.status, "text": e.text}))
            else:
                echo(f"{what}: {_line(e)}")
        if not as_json:
            echo(f"saved {reviews.path} ({len(reviews.decisions)} decisions)", err=True)
    for ident in show_ids:
        e = _find(bank, ident)
        if as_json:
            echo(json.dumps(_entry_json(e), ensure_ascii=False))
            continue
        echo(f"id:            {e.id}")
        echo(f"kind:          {e.kind}{' (the bot never sends it)' if e.agent_only else ''}")
        echo(f"status:        {e.status}")
        echo(
            f"uses:          {e.count} in {e.conversations or '?'} conversations"
            + (f" by {e.agents} agents" if e.agents else "")
        )
        echo(f"intents:       {', '.join(f'{k} ({v})' for k, v in e.intents.items()) or '-'}")
        echo(f"examples:      {' '.join(e.examples) or '-'}")
        echo(f"why:           {'; '.join(e.reasons) or 'general information or a question'}")
        if e.original:
            echo(f"mined text:    {e.original}")
        echo(f"text:\n{e.text}")
    if list_:
        rows = [
            e
            for e in bank.entries
            if (kind is None or e.kind == kind)
            and (status is None or e.status == status)
            and (grep is None or grep.casefold() in e.text.casefold())
        ]
        shown = rows[:limit] if limit else rows
        for e in shown:
            echo(json.dumps(_entry_json(e), ensure_ascii=False) if as_json else _line(e))
        if not as_json:
            echo(
                f"{len(shown)} of {len(rows)} matching entries ({len(bank)} in the bank)", err=True
            )
    if not (changed or show_ids or list_):
        kinds = Counter(e.kind for e in bank.entries)
        statuses = Counter(e.status for e in bank.entries)
        summary = {
            "entries": len(bank),
            "kinds": dict(kinds),
            "statuses": dict(statuses),
            "sendable": sum(not e.agent_only for e in bank.entries),
            "reviews_file": str(reviews.path),
        }
        if as_json:
            echo(json.dumps(summary))
        else:
            echo(f"{len(bank)} entries: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
            echo("review: " + ", ".join(f"{k} {v}" for k, v in statuses.items()))
            echo(f"the bot may send {summary['sendable']}; decisions in {reviews.path}")


@bank_group.command("export-csv")
@_models
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write.")
@timed
def export_csv_cmd(models_dir, out) -> None:
    """Write the bank as a CSV for a spreadsheet: id, kind, status, text, uses, conversations,
    example conversation ids and the rules' reasons.

    Change `status` (approved, edited, barred, unreviewed) or `text`, then import it back.

    Example:

        assistant bank export-csv --models models --out bank.csv
    """
    from assistant.review import export_csv

    bank, _ = _open(models_dir)
    n = export_csv(bank.entries, out)
    echo(f"wrote {n} entries to {out}")


@bank_group.command("import-csv")
@_models
@click.argument("csv_file", type=click.Path(dir_okay=False))
@_by
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change.")
@timed
def import_csv_cmd(models_dir, csv_file, by, dry_run) -> None:
    """Record the decisions of a reviewed CSV (from `assistant bank export-csv`).

    The whole file is checked first (unknown ids, statuses, placeholders: file:line and the
    fix); nothing is recorded unless every row is valid. A changed text counts as an edit.

    Example:

        assistant bank import-csv --models models bank.csv
    """
    from collections import Counter

    from assistant.review import read_csv

    bank, reviews = _open(models_dir)
    changes = read_csv(csv_file, bank.entries)
    for c in changes:
        reviews.decide(c.entry, c.status, text=c.text, by=by)
    counts = Counter(c.status for c in changes)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing to change"
    if dry_run:
        echo(f"would record: {summary}")
        return
    if changes:
        reviews.save()
    echo(f"recorded: {summary} ({reviews.path})")
