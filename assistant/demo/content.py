"""The demo company's content, read from TOML files and checked on load.

The dialogues the demo models learn from are composed from phrasings, replies and word lists that
live as data in `assistant/demo_data/content/` (read with the standard library's `tomllib`):

    company.toml        intent groups, teams, customers, addresses, shop, plans, products
    <group>.toml        one file per intent group named in `intent_groups` (orders, billing, ...):
                        [[intent]] blocks, their [[intent.outcome]] and [[intent.outcome.followup]]
    conversation.toml   greeting, thanks_goodbye, human_agent, details, wording, closing, email
    out_of_scope.toml   the "oos" label: off-topic messages, the slots they use, the replies

Any file may also hold `[lists]` (phrase lists shared by name: `ask = "order_ask"`) and
`[followups.<name>]` (follow-ups shared by name: `use = "refund_time"`). The format and every key
are described in docs/demo-company.md ("Editing the demo content").

`load_content` checks everything before a dialogue is written and reports every problem at once,
each with the file, the line, the key, the bad value and the fix: unknown keys or sections, missing
or empty fields, duplicate intents or lists, placeholders the generator does not fill, unknown
product keys, teams or labels.

Example:
    >>> content = load_content()
    >>> len(content.intents), content.intents["order_status"].detail
    (30, 'order')
    >>> len(content.labels), content.labels[:2]
    (34, ('app_problem', 'battery_issue'))
"""

from __future__ import annotations

import difflib
import re
import string
import tomllib
from collections.abc import Iterable
from dataclasses import MISSING, dataclass, fields, replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from assistant.demo.schema import (
    GLUE_LABELS,
    NAME_PATTERN,
    SLOTS,
    Company,
    Content,
    Conversation,
    Followup,
    Intent,
    OutOfScopeFile,
)
from assistant.errors import DataError

CONTENT_DIR = Path(str(files("assistant") / "demo_data" / "content"))


class ContentError(DataError):
    """The demo content files are invalid; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:30]
        more = f"\n... and {len(problems) - 30} more" if len(problems) > 30 else ""
        super().__init__(
            f"{len(problems)} problem(s) in the demo content:\n" + "\n".join(shown) + more
        )


# ---------------------------------------------------------------------------------------------
# Where a value is: file, line and key path, for messages
# ---------------------------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*([\w.-]+)\s*\]")


class _File:
    """One content file's lines and table headers, to point a message at a line."""

    def __init__(self, path: Path, text: str) -> None:
        self.name = path.name
        self.lines = text.splitlines()
        # (line, dotted table name, is an [[array]] header) of every header, in order
        self.headers = [
            (i, m.group(1), line.lstrip().startswith("[["))
            for i, line in enumerate(self.lines)
            if (m := _HEADER.match(line))
        ]

    def find_key(self, key: str, start: int, end: int) -> int | None:
        rx = re.compile(rf"^\s*{re.escape(key)}\s*=")
        return next((i for i in range(start, end) if rx.match(self.lines[i])), None)

    def own_end(self, start: int | None) -> int:
        """The line after a block's own keys (the next header); top-level keys: the first one."""
        lo = -1 if start is None else start
        return next((i for i, _, _ in self.headers if i > lo), len(self.lines))

    def subtree_end(self, start: int, table: str) -> int:
        """The line after a table and its sub-tables."""
        return next(
            (i for i, name, _ in self.headers if i > start and not name.startswith(table + ".")),
            len(self.lines),
        )


@dataclass(frozen=True)
class _Where:
    """A place in a content file: the key path shown to the user, the TOML table it is in and
    the lines of its block (start: its header, None for the top of the file)."""

    file: _File
    path: tuple[str, ...] = ()
    table: str = ""  # dotted TOML table name, "" at the top
    start: int | None = None
    end: int | None = None

    def key(self, key: str) -> _Where:
        """A key=value inside this block."""
        lo = 0 if self.start is None else self.start
        line = self.file.find_key(key, lo, self.file.own_end(self.start))
        end = self.end if line is None else self.file.own_end(line)
        return _Where(
            self.file, (*self.path, key), self.table, line if line is not None else self.start, end
        )

    def section(self, key: str, label: str | None = None) -> _Where:
        """The table [<this table>.key]."""
        table = f"{self.table}.{key}" if self.table else key
        line = next((i for i, name, arr in self.file.headers if name == table and not arr), None)
        end = None if line is None else self.file.subtree_end(line, table)
        return _Where(self.file, (*self.path, label or f"[{table}]"), table, line, end)

    def block(self, key: str, nth: int, label: str) -> _Where:
        """The `nth` [[<this table>.key]] block inside this one."""
        table = f"{self.table}.{key}" if self.table else key
        lo = -1 if self.start is None else self.start
        hi = len(self.file.lines) if self.end is None else self.end
        lines = [i for i, name, arr in self.file.headers if name == table and arr and lo < i < hi]
        line = lines[nth] if nth < len(lines) else None
        end = None if line is None else self.file.subtree_end(line, table)
        return _Where(self.file, (*self.path, label), table, line, end)

    def item(self, label: str, value: str | None = None) -> _Where:
        """An item of a list; its line is found by its text, when it is a string."""
        line = self.start
        if value and self.start is not None:
            needles = (value, value.replace("\\", "\\\\").replace('"', '\\"'))
            hi = len(self.file.lines) if self.end is None else self.end
            line = next(
                (i for i in range(self.start, hi) if any(n in self.file.lines[i] for n in needles)),
                self.start,
            )
        return _Where(self.file, (*self.path, label), self.table, line, self.end)

    @property
    def place(self) -> str:
        """file:line (file alone when the line is unknown)."""
        return self.file.name + ("" if self.start is None else f":{self.start + 1}")

    def __str__(self) -> str:
        path = " › ".join(self.path)
        return self.place + (f": {path}" if path else "")


def _suggest(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _names(values: Iterable[str]) -> str:
    return ", ".join(sorted(values)) or "none"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------------------------------
# The checking builder
# ---------------------------------------------------------------------------------------------


class _Loader:
    """Reads the content folder, builds the schema's dataclasses and collects every problem."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []
        self.lists: dict[str, tuple[Any, _Where]] = {}  # shared lists: raw value, place
        self.followups: dict[str, tuple[Any, _Where]] = {}  # shared follow-ups: raw, place
        self.products: set[str] = set()
        self.teams: set[str] = set()
        self.oos_slots: set[str] = set()
        self.labels_used: list[tuple[Any, _Where]] = []  # follow-up labels, checked at the end
        self.built_followups: dict[str, Followup | None] = {}
        self.checked_lists: dict[tuple, tuple[str, ...]] = {}
        self.used_lists: set[str] = set()

    def problem(self, where: _Where | str, text: str) -> None:
        self.problems.append(f"{where}: {text}")

    # -- files ----------------------------------------------------------------------------------

    def read(self, name: str) -> tuple[dict, _File] | None:
        """A file's TOML and lines; its [lists] and [followups.*] go to the shared names."""
        path = self.folder / name
        if not path.is_file():
            self.problem(name, f"missing file {path}. Fix: restore it from the repository.")
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            self.problem(name, f"not UTF-8 text ({e}). Fix: save the file as UTF-8.")
            return None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            line = re.search(r"line (\d+)", str(e))
            at = f"{name}:{line.group(1)}" if line else name
            self.problem(at, f"not valid TOML: {e}. Fix: check the quotes, commas and brackets.")
            return None
        f = _File(path, text)
        for kind, store in (("lists", self.lists), ("followups", self.followups)):
            table = data.pop(kind, {})
            where = _Where(f).section(kind)
            if not isinstance(table, dict):
                self.problem(where, f"expected a table [{kind}], got {_show(table)}.")
                continue
            for key, value in table.items():
                if kind == "lists":  # the list's items lie between its key and the next header
                    at = replace(where.key(key), path=(f"[lists] {key}",))
                else:
                    at = replace(where.section(key), path=(f"[followups.{key}]",))
                if key in store:
                    self.problem(
                        at,
                        f'{kind[:-1]} "{key}" is already defined at {store[key][1].place}.'
                        " Fix: rename one of them.",
                    )
                elif not NAME_PATTERN.fullmatch(key):
                    self.problem(at, f'"{key}" must be lower case letters, digits and _.')
                else:
                    store[key] = (value, at)
        return data, f

    # -- tables ---------------------------------------------------------------------------------

    def build(self, cls: type, table: Any, where: _Where) -> Any:
        """An instance of the dataclass `cls` from a TOML table; None if it has problems."""
        if not isinstance(table, dict):
            self.problem(where, f"expected a table of keys, got {_show(table)}.")
            return None
        specs = {f.metadata.get("key", f.name): f for f in fields(cls)}
        n = len(self.problems)
        for key in table:
            if key not in specs:
                self.problem(
                    where.key(key),
                    f'unknown key "{key}"{_suggest(key, specs)}. Fix: use one of: {_names(specs)}.',
                )
        values: dict[str, Any] = {}
        for key, spec in specs.items():  # in field order: [oos.slots] before the messages
            if key not in table:
                if spec.default is MISSING:
                    self.problem(where, f'missing key "{key}". Fix: add {key} = ...')
                continue
            kind = spec.metadata["kind"]
            at = (
                where
                if kind == "blocks"
                else where.section(key)
                if kind in ("section", "keyed", "slot_lists")
                else where.key(key)
            )
            values[spec.name] = self.value(spec.metadata, table[key], at)
        return cls(**values) if len(self.problems) == n else None

    def value(self, meta: Any, raw: Any, where: _Where) -> Any:
        """Check and convert one value by its kind (the methods below); problems are recorded."""
        return getattr(self, f"_{meta['kind']}")(meta, raw, where)

    def _section(self, meta: Any, raw: Any, where: _Where) -> Any:
        return self.build(meta["cls"], raw, where)

    def _blocks(self, meta: Any, raw: Any, where: _Where) -> tuple:
        cls, key = meta["cls"], meta["key"]
        table = f"{where.table}.{key}" if where.table else key
        if not isinstance(raw, list) or not raw:
            self.problem(where, f"expected one or more [[{table}]] blocks, got {_show(raw)}.")
            return ()
        out = []
        for i, item in enumerate(raw):
            name = item.get("name") if isinstance(item, dict) and cls is Intent else None
            label = f'intent "{name}"' if isinstance(name, str) else f"{key} {i + 1}"
            at = where.block(key, i, label)
            if cls is Followup and isinstance(item, dict) and "use" in item:
                out.append(self.shared_followup(item, at))
            else:
                out.append(self.build(cls, item, at))
        return tuple(out)

    def _keyed(self, meta: Any, raw: Any, where: _Where) -> dict:
        if not isinstance(raw, dict) or not raw:
            self.problem(where, f"expected one or more [{where.table}.<key>] tables.")
            return {}
        out = {}
        for key, table in raw.items():
            at = where.section(key, f"[{where.table}.{key}]")
            if not NAME_PATTERN.fullmatch(key):
                self.problem(at, f'"{key}" must be lower case letters, digits and _.')
            out[key] = self.build(meta["cls"], table, replace(at, path=at.path[-1:]))
        return out

    def _slot_lists(self, meta: Any, raw: Any, where: _Where) -> dict:
        if not isinstance(raw, dict) or not raw:
            self.problem(where, f"expected a table [{where.table}] of slot = [words].")
            return {}
        plain = {"slots": None, "blank": False}
        out = {k: self._phrases(plain, v, where.key(k)) for k, v in raw.items()}
        for k in out:
            if not NAME_PATTERN.fullmatch(k):
                self.problem(where.key(k), f'slot "{k}" must be lower case letters, digits and _.')
        self.oos_slots = set(out)
        return out

    def shared_followup(self, table: dict, where: _Where) -> Followup | None:
        """A follow-up block that says `use = "name"`."""
        name = table["use"]
        if len(table) > 1:
            others = ", ".join(k for k in table if k != "use")
            self.problem(
                where,
                f"`use` takes a whole shared follow-up, so {others} would be "
                "ignored. Fix: remove them, or remove `use` and write asks and answers.",
            )
            return None
        if not isinstance(name, str) or name not in self.followups:
            self.problem(
                where.key("use"),
                f"{_show(name)} names no shared follow-up"
                f"{_suggest(str(name), self.followups)}. Fix: use one of: "
                f"{_names(self.followups)} (defined as [followups.<name>]).",
            )
            return None
        if name not in self.built_followups:
            raw, at = self.followups[name]
            self.built_followups[name] = self.build(Followup, raw, at)
        return self.built_followups[name]

    # -- values ---------------------------------------------------------------------------------

    def _phrases(self, meta: Any, raw: Any, where: _Where) -> tuple[str, ...]:
        if isinstance(raw, str):
            if raw not in self.lists:
                self.problem(
                    where,
                    f'"{raw}" names no shared list{_suggest(raw, self.lists)}. '
                    'Fix: write a list of phrasings ["...", "..."], or the name of one '
                    f"of: {_names(self.lists)}.",
                )
                return ()
            # Checked once per use (the placeholders filled depend on it), where it is written.
            self.used_lists.add(raw)
            key = (raw, meta["slots"], meta["blank"])
            if key not in self.checked_lists:
                value, at = self.lists[raw]
                self.checked_lists[key] = self._phrases(meta, value, at)
            return self.checked_lists[key]
        if not isinstance(raw, list):
            self.problem(where, f'expected a list of phrasings ["...", "..."], got {_show(raw)}.')
            return ()
        if not raw:
            self.problem(where, "empty list. Fix: write at least one phrasing, or remove the key.")
        seen: set[str] = set()
        for i, text in enumerate(raw, 1):
            at = where.item(f"item {i}", text if isinstance(text, str) else None)
            if not isinstance(text, str):
                self.problem(at, f'expected text in quotes, got {_show(text)}. Fix: "{text}"')
                continue
            if not text.strip() and not meta["blank"]:
                self.problem(at, "empty phrasing. Fix: write the text, or remove the item.")
            elif text in seen and not meta["blank"]:
                self.problem(at, f"{_show(text)} is listed twice. Fix: remove one.")
            seen.add(text)
            self.check_slots(text, meta["slots"], at)
        return tuple(raw)

    def check_slots(self, text: str, slots: str | None, where: _Where) -> None:
        """Every {placeholder} in `text` is one the generator fills here."""
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as e:
            self.problem(
                where,
                f"{_show(text)}: {e}. Fix: close every {{ with }} (write {{{{ "
                "or }} for a brace of its own).",
            )
            return
        known = SLOTS if slots == "ctx" else self.oos_slots if slots == "oos" else {}
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if slots is None:
                self.problem(
                    where,
                    f"{_show(text)}: placeholders are not filled in this list, so "
                    f"{{{name}}} would be shown as it is. Fix: write the words instead.",
                )
            elif spec or conversion:
                self.problem(
                    where,
                    f"{_show(text)}: {{{name}}} may not carry a format (:) or conversion (!). "
                    f"Fix: write {{{name}}}.",
                )
            elif name not in known:
                listed = (
                    f"the slots of [oos.slots]: {_names(known)}"
                    if slots == "oos"
                    else 'a placeholder from the list in docs/demo-company.md ("Placeholders")'
                )
                self.problem(
                    where,
                    f"{_show(text)}: unknown placeholder {{{name}}}{_suggest(name, known)}. "
                    f"Fix: use {listed}.",
                )

    def _text(self, meta: Any, raw: Any, where: _Where) -> str:
        if not isinstance(raw, str) or not raw.strip():
            self.problem(where, f'expected text in quotes, got {_show(raw)}. Fix: key = "text"')
            return ""
        self.check_slots(raw, meta["slots"], where)
        return raw

    def _name(self, meta: Any, raw: Any, where: _Where) -> str:
        if not isinstance(raw, str) or not NAME_PATTERN.fullmatch(raw):
            self.problem(
                where,
                f"{_show(raw)} is not a name. Fix: lower case letters, digits "
                'and _, starting with a letter ("order_status").',
            )
        return raw

    def _names(self, meta: Any, raw: Any, where: _Where) -> tuple[str, ...]:
        if not isinstance(raw, list) or not raw:
            self.problem(where, f'expected a list of names ["a", "b"], got {_show(raw)}.')
            return ()
        for i, name in enumerate(raw, 1):
            self._name(meta, name, where.item(f"item {i}", name if isinstance(name, str) else None))
        if len({str(n) for n in raw}) < len(raw):
            self.problem(where, f"a name is listed twice in {_show(raw)}. Fix: remove one.")
        return tuple(raw)

    def _number(self, meta: Any, raw: Any, where: _Where) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not raw > 0:
            self.problem(where, f"expected a number above 0, got {_show(raw)}. Fix: weight = 2")
        return raw

    def _flag(self, meta: Any, raw: Any, where: _Where) -> bool:
        if not isinstance(raw, bool):
            self.problem(where, f"expected true or false (no quotes), got {_show(raw)}.")
        return raw

    def _choice(self, meta: Any, raw: Any, where: _Where) -> str:
        if raw not in meta["choices"]:
            self.problem(where, f"{_show(raw)} is not one of: {', '.join(meta['choices'])}.")
        return raw

    def _days(self, meta: Any, raw: Any, where: _Where) -> tuple[int, int]:
        ints = (
            isinstance(raw, list)
            and len(raw) == 2
            and all(isinstance(d, int) and not isinstance(d, bool) for d in raw)
        )
        if not (ints and 0 <= raw[0] <= raw[1]):
            self.problem(
                where,
                f"expected [fewest, most] days with 0 <= fewest <= most, got "
                f"{_show(raw)}. Fix: age = [2, 9]",
            )
            return (0, 0)
        return (raw[0], raw[1])

    def _pairs(self, meta: Any, raw: Any, where: _Where) -> tuple[tuple[str, str], ...]:
        ok = (
            isinstance(raw, list)
            and raw
            and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) and s for s in p)
                for p in raw
            )
        )
        if not ok:
            self.problem(where, f'expected a list of ["City", "ST"] pairs, got {_show(raw)}.')
            return ()
        return tuple((p[0], p[1]) for p in raw)

    def _products(self, meta: Any, raw: Any, where: _Where) -> tuple[str, ...]:
        keys = self._phrases({"slots": None, "blank": True}, raw, where)
        # A key may repeat (it is then picked more often); a non-text item is reported already.
        for key in dict.fromkeys(k for k in keys if isinstance(k, str)):
            if key not in self.products:
                self.problem(
                    where,
                    f'unknown product "{key}"{_suggest(key, self.products)}. '
                    "Fix: use a key of a [products.<key>] table in company.toml: "
                    f"{_names(self.products)}.",
                )
        return keys

    def _team(self, meta: Any, raw: Any, where: _Where) -> str:
        if not isinstance(raw, str) or raw not in self.teams:
            self.problem(
                where,
                f"unknown team {_show(raw)}{_suggest(str(raw), self.teams)}. "
                f"Fix: use one of `teams` in company.toml: {_names(self.teams)}.",
            )
        return raw

    def _slot(self, meta: Any, raw: Any, where: _Where) -> str:
        m = re.fullmatch(r"\{(\w+)\}", raw) if isinstance(raw, str) else None
        if raw != "" and not (m and m.group(1) in SLOTS):
            self.problem(
                where,
                f'expected one placeholder such as "{{code}}", got {_show(raw)}. '
                f"Fix: use one of: {_names(SLOTS)}.",
            )
        return raw

    def _label(self, meta: Any, raw: Any, where: _Where) -> str:
        self.labels_used.append((raw, where))
        return raw


def _check_intent(loader: _Loader, intent: Intent, where: _Where) -> None:
    """Rules across an intent's keys."""
    if intent.detail != "none" and not intent.ask:
        loader.problem(
            where,
            f'detail = "{intent.detail}" but no `ask`. Fix: add the agent\'s '
            'questions for the detail (ask = [...] or ask = "order_ask").',
        )
    if intent.detail == "none" and intent.ask:
        loader.problem(
            where.key("ask"), 'never used with detail = "none". Fix: remove it, or set detail.'
        )
    if intent.detail == "custom" and not (
        intent.answers or all(o.answers for o in intent.outcomes)
    ):
        loader.problem(
            where,
            'detail = "custom" needs the customer\'s `answers` (on the intent '
            "or on every outcome). Fix: add answers = [...]",
        )
    if intent.detail == "none" and (intent.answers or any(o.answers for o in intent.outcomes)):
        loader.problem(where, 'answers are never used with detail = "none". Fix: remove them.')
    if intent.topical and not all(o.openers for o in intent.outcomes):
        loader.problem(
            where,
            "topical = true: its own openers are the vague ones, so every "
            "outcome needs `openers`. Fix: add openers to each outcome.",
        )


def load_content(folder: Path | str | None = None) -> Content:
    """The demo content in `folder` (default: the bundled `assistant/demo_data/content`), checked.

    Raises ContentError listing every problem (file:line, key, value, fix).
    """
    return _bundled() if folder is None else _load(Path(folder))


@cache
def _bundled() -> Content:
    return _load(CONTENT_DIR)


_FIXED = ("company.toml", "conversation.toml", "out_of_scope.toml")


def _load(folder: Path) -> Content:
    if not folder.is_dir():
        raise ContentError([f"{folder}: no such folder. Fix: point at the demo content folder."])
    loader = _Loader(folder)
    read = {name: loader.read(name) for name in _FIXED}
    groups: list[str] = []
    if read["company.toml"]:
        raw = read["company.toml"][0].get("intent_groups")
        groups = [g for g in raw if isinstance(g, str)] if isinstance(raw, list) else []
    for group in groups:
        if f"{group}.toml" in _FIXED:
            loader.problem(
                "company.toml",
                f'intent group "{group}" clashes with {group}.toml. Fix: rename the group.',
            )
        elif NAME_PATTERN.fullmatch(group):
            read[f"{group}.toml"] = loader.read(f"{group}.toml")
    for path in sorted(folder.glob("*.toml")):
        if path.name not in read:
            loader.problem(
                path.name,
                "not a content file: intent group files are listed in "
                "company.toml `intent_groups`. Fix: add the group there, or remove "
                "the file.",
            )
    if loader.problems:
        raise ContentError(loader.problems)

    # company.toml first: products and teams are checked wherever they are used.
    data, f = read["company.toml"]
    if isinstance(data.get("products"), dict):
        loader.products = set(data["products"])
    if isinstance(data.get("teams"), list):
        loader.teams = {t for t in data["teams"] if isinstance(t, str)}
    company = loader.build(Company, data, _Where(f))
    if loader.teams and "support" not in loader.teams:
        loader.problem(
            _Where(f).key("teams"),
            'must include "support" (the team of requests without an intent). Fix: add "support".',
        )

    intents: dict[str, Intent] = {}
    where_of: dict[str, _Where] = {}
    for group in groups:
        data, f = read[f"{group}.toml"]
        for key in (k for k in data if k != "intent"):
            loader.problem(
                _Where(f).key(key),
                f'unknown section "{key}". Fix: a group file holds '
                "[[intent]] blocks, [lists] and [followups.<name>].",
            )
        spec = {"kind": "blocks", "cls": Intent, "key": "intent"}
        raw = data.get("intent")
        built = loader.value(spec, raw, _Where(f))
        for i, table in enumerate(raw if built else ()):
            name = table.get("name") if isinstance(table, dict) else None
            if not isinstance(name, str):
                continue
            at = _Where(f).block("intent", i, f'intent "{name}"')
            if name in where_of:
                loader.problem(
                    at,
                    f'duplicate intent "{name}", first defined at {where_of[name].place}. '
                    "Fix: merge them or rename one.",
                )
                continue
            where_of[name] = at  # also when it has problems: its name is a known label
            if name in GLUE_LABELS:
                loader.problem(
                    at,
                    f'"{name}" is a label of its own (conversation.toml, out_of_scope.toml). '
                    "Fix: rename the intent.",
                )
            if built[i] is not None:
                _check_intent(loader, built[i], at)
                intents[name] = built[i]

    data, f = read["conversation.toml"]
    conversation = loader.build(Conversation, data, _Where(f))
    data, f = read["out_of_scope.toml"]
    oos_file = loader.build(OutOfScopeFile, data, _Where(f))

    labels = set(where_of) | set(GLUE_LABELS)
    for label, where in loader.labels_used:
        if not isinstance(label, str) or label not in labels:
            loader.problem(
                where,
                f"unknown label {_show(label)}{_suggest(str(label), labels)}. "
                "Fix: use an intent name, or greeting, oos, human_agent, "
                "thanks_goodbye.",
            )
    lists: dict[str, tuple[str, ...]] = {}
    plain = {"slots": None, "blank": True}
    for name, (raw, at) in loader.lists.items():
        if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
            loader.problem(at, f"expected a non-empty list of texts, got {_show(raw)}.")
        else:
            lists[name] = tuple(raw)
    for name, check in (("any_product", loader._products), ("relatives", loader._phrases)):
        if name in loader.lists:
            check(plain, name, _Where(loader.lists[name][1].file))
        else:
            loader.problem(
                "company.toml",
                f'missing shared list "{name}": the generator uses it. Fix: add it under [lists].',
            )
    # Something written but never used is most likely a typo or a lost header.
    for name, (_, at) in loader.lists.items():
        if name not in loader.used_lists:
            loader.problem(
                at,
                f'shared list "{name}" is never used. Fix: use it by name '
                f'(key = "{name}") or remove it.',
            )
    for name, (_, at) in loader.followups.items():
        if name not in loader.built_followups:
            loader.problem(
                at,
                f'shared follow-up "{name}" is never used. Fix: use it in an '
                f'outcome ([[intent.outcome.followup]] use = "{name}") or remove it.',
            )
    if loader.problems:
        raise ContentError(loader.problems)
    return Content(company, intents, lists, conversation, oos_file.oos)


__all__ = ["CONTENT_DIR", "SLOTS", "Content", "ContentError", "load_content"]
