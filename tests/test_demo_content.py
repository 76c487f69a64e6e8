"""Tests for assistant/demo/content.py: the demo content files and their checks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from assistant.demo.content import CONTENT_DIR, SLOTS, Content, ContentError, load_content

ROOT = Path(__file__).resolve().parents[1]
BRIEF = ROOT / "docs" / "demo-company.md"


@pytest.fixture()
def content_dir(tmp_path: Path) -> Path:
    """A copy of the bundled content that a test may edit."""
    return Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))


def _edit(folder: Path, name: str, old: str, new: str, count: int = 1) -> int:
    """Replace `old` by `new` in `name` (the first `count` times); the 1-based line it was on."""
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {name}"
    line = text[: text.index(old.lstrip("\n"), text.index(old))].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def _problems(folder: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_content(folder)
    assert str(info.value).startswith(f"{len(info.value.problems)} problem(s) in the demo content")
    return info.value.problems


def _one_problem(folder: Path) -> str:
    problems = _problems(folder)
    assert len(problems) == 1, problems
    return problems[0]


# --- the bundled content ------------------------------------------------------------------------


def test_bundled_content_loads_once() -> None:
    content = load_content()
    assert isinstance(content, Content) and load_content() is content
    assert list(content.company.intent_groups) == ["orders", "billing", "account", "devices"]
    assert len(content.intents) == 30 and len(content.labels) == 34
    assert all(weight > 0 for weight in content.opening_weights.values())


def test_a_copy_of_the_content_loads_to_the_same_values(content_dir: Path) -> None:
    assert load_content(content_dir) == load_content()


def test_labels_are_the_briefs_intents_plus_oos() -> None:
    text = BRIEF.read_text(encoding="utf-8")
    table = text[text.index("## Intents") :].split("\n## ")[0]
    brief = set(re.findall(r"^\| ([a-z_]+) \|", table, re.M))
    brief.discard("intent")
    assert len(brief) == 33
    assert set(load_content().labels) == brief | {"oos"}


def test_every_slot_is_documented() -> None:
    brief = BRIEF.read_text(encoding="utf-8")
    assert not [slot for slot in SLOTS if f"`{{{slot}}}`" not in brief]


def test_shared_lists_and_followups_are_used_by_name() -> None:
    content = load_content()
    assert content.intents["order_status"].ask == content.lists["order_ask"]
    assert content.intents["order_status"].products == content.lists["any_product"]
    # One shared follow-up, used by several outcomes, is one object.
    resets = [
        f
        for intent in content.intents.values()
        for outcome in intent.outcomes
        for f in outcome.followups
        if f.asks == content.lists["still_broken"]
    ]
    assert len(resets) >= 2 and all(f is resets[0] for f in resets)


def _agent_templates(content: Content) -> list[str]:
    conv = content.conversation
    out = [t for name in ("order_ask", "order_ask_sorry", "email_ask") for t in content.lists[name]]
    for intent in content.intents.values():
        out += list(intent.ask)
        for outcome in intent.outcomes:
            out += list(outcome.replies)
            out += [a for f in outcome.followups for a in f.answers]
    for section in (conv.greeting, conv.thanks_goodbye, conv.closing, content.oos):
        out += list(section.replies)
    h = conv.human_agent
    out += [*h.why, *h.try_first, *h.handoff, *h.handoff_email, *conv.closing.grumpy]
    out += [*conv.closing.handed_over, *conv.closing.handed_over_email]
    out += [*conv.details.no_order_ask, *conv.wording.clarify, *conv.wording.empathy]
    return out


def test_agent_answers_follow_the_policies() -> None:
    templates = _agent_templates(load_content())
    joined = "\n".join(templates)
    assert set(re.findall(r"\$\d+(?:\.\d\d)?", joined)) <= {
        "$4.99",
        "$49",
        "$12.99",
        "$129",
        "$12.95",
        "$50",
    }
    assert set(re.findall(r"(\d+–\d+) business days", joined)) <= {"3–5", "1–2", "5–10"}
    assert set(re.findall(r"(\d+)-day", joined)) <= {"30", "14", "60"}
    assert set(re.findall(r"(\d+)-year", joined)) <= {"2", "3"}
    hours = set(re.findall(r"\d+(?:am|pm)–\d+(?:am|pm) ET", joined))
    assert hours == {"7am–10pm ET", "9am–6pm ET"}
    assert set(re.findall(r"\+1 \(555\) [\d-]+", joined)) == {"+1 (555) 010-4242"}
    for text in templates:
        if "return" in text and "window" in text:
            assert "30-day" in text or "30 days" in text, text


def test_every_intent_has_enough_asks_and_replies() -> None:
    for intent in load_content().intents.values():
        if intent.detail != "none":
            assert 3 <= len(intent.ask) <= 6, intent.name
        replies = [r for o in intent.outcomes for r in o.replies]
        assert len(replies) >= 3 and all(len(o.replies) >= 2 for o in intent.outcomes), intent.name


# --- the checks: each names the file, the line, the key, the value and the fix -------------------


def test_unknown_key_names_file_line_key_and_the_likely_fix(content_dir: Path) -> None:
    line = _edit(content_dir, "orders.toml", 'detail = "order"', 'detial = "order"')
    problem = _one_problem(content_dir)
    assert problem.startswith(f'orders.toml:{line}: intent "order_status" › detial: unknown key')
    assert 'did you mean "detail"' in problem and "Fix: use one of:" in problem


def test_unknown_placeholder_points_at_the_phrasing(content_dir: Path) -> None:
    line = _edit(content_dir, "orders.toml", '"Where is my order?"', '"Where is my order, {nmae}?"')
    problem = _one_problem(content_dir)
    assert problem.startswith(f'orders.toml:{line}: intent "order_status" › openers › item 1:')
    assert "'Where is my order, {nmae}?'" in problem and "unknown placeholder {nmae}" in problem
    assert 'did you mean "name"' in problem


def test_placeholder_in_a_list_that_is_not_filled(content_dir: Path) -> None:
    line = _edit(content_dir, "conversation.toml", '"howdy",', '"howdy {name}",')
    problem = _one_problem(content_dir)
    assert problem.startswith(f"conversation.toml:{line}: [greeting] › heads › item ")
    assert "{name} would be shown as it is" in problem


def test_unbalanced_brace(content_dir: Path) -> None:
    _edit(content_dir, "orders.toml", '"Where is my order?"', '"Where is {order?"')
    assert "close every { with }" in _one_problem(content_dir)


def test_duplicate_intent_names_both_places(content_dir: Path) -> None:
    first = _edit(content_dir, "orders.toml", "\n[[intent]]", "\n[[intent]]")
    second = _edit(content_dir, "billing.toml", 'name = "warranty_claim"', 'name = "order_status"')
    problem = _one_problem(content_dir)
    assert problem.startswith(f'billing.toml:{second - 1}: intent "order_status": duplicate')
    assert f"first defined at orders.toml:{first}. Fix: merge them" in problem


def test_missing_key(content_dir: Path) -> None:
    line = _edit(
        content_dir, "orders.toml", 'name = "cancel_order"\nweight = 4\n', 'name = "cancel_order"\n'
    )
    problem = _one_problem(content_dir)
    where = f'orders.toml:{line - 1}: intent "cancel_order"'
    assert problem == f'{where}: missing key "weight". Fix: add weight = ...'


def test_empty_list(content_dir: Path) -> None:
    line = _edit(
        content_dir, "company.toml", 'carriers = ["UPS", "USPS", "FedEx"]', "carriers = []"
    )
    problem = _one_problem(content_dir)
    assert problem.startswith(f"company.toml:{line}: [shop] › carriers: empty list.")


def test_wrong_type(content_dir: Path) -> None:
    line = _edit(content_dir, "orders.toml", "weight = 10", 'weight = "10"')
    problem = _one_problem(content_dir)
    assert problem.startswith(f'orders.toml:{line}: intent "order_status" › weight: expected a')
    assert "'10'" in problem


def test_unknown_shared_list(content_dir: Path) -> None:
    line = _edit(content_dir, "orders.toml", 'ask = "order_ask"', 'ask = "order_asks"')
    problem = _one_problem(content_dir)
    assert problem.startswith(f'orders.toml:{line}: intent "order_status" › ask: "order_asks"')
    assert 'did you mean "order_ask"' in problem


def test_problem_in_a_shared_list_points_at_the_list(content_dir: Path) -> None:
    line = _edit(content_dir, "conversation.toml", "What's the order number, please?", "{x}")
    # Three intents use the list: the problem is reported once, where the list is written.
    problem = _one_problem(content_dir)
    assert problem.startswith(f"conversation.toml:{line}: [lists] order_ask › item 4: ")
    assert "unknown placeholder {x}" in problem and "docs/demo-company.md" in problem


def test_unknown_product_team_label_and_followup(content_dir: Path) -> None:
    _edit(content_dir, "orders.toml", 'products = "any_product"', 'products = ["cam", "toaster"]')
    _edit(content_dir, "orders.toml", 'team = "orders"', 'team = "order"')
    _edit(content_dir, "orders.toml", 'intent = "refund_status"', 'intent = "refund_stats"')
    _edit(content_dir, "orders.toml", 'use = "express_info"', 'use = "express"')
    problems = "\n".join(_problems(content_dir))
    assert 'unknown product "toaster"' in problems
    assert "unknown team 'order' (did you mean \"orders\"?)" in problems
    assert "unknown label 'refund_stats'" in problems
    assert "'express' names no shared follow-up" in problems


def test_rules_across_keys(content_dir: Path) -> None:
    _edit(content_dir, "orders.toml", 'detail = "order"', 'detail = "none"')
    _edit(content_dir, "orders.toml", "topical = true", "topical = false")
    _edit(content_dir, "billing.toml", "\n[[intent]]\n", "\n[[intent]]\ntopical = true\n")
    problems = "\n".join(_problems(content_dir))
    assert 'never used with detail = "none"' in problems
    assert "every outcome needs `openers`" in problems


def test_toml_syntax_error_names_the_line(content_dir: Path) -> None:
    line = _edit(content_dir, "devices.toml", "weight = 5", "weight = = 5")
    problem = _one_problem(content_dir)
    assert problem.startswith(f"devices.toml:{line}: not valid TOML")


def test_files_must_match_the_intent_groups(content_dir: Path) -> None:
    (content_dir / "extras.toml").write_text("[[intent]]\n", encoding="utf-8")
    (content_dir / "account.toml").unlink()
    problems = "\n".join(_problems(content_dir))
    assert "extras.toml: not a content file" in problems
    assert "account.toml: missing file" in problems


def test_every_problem_is_reported_at_once(content_dir: Path) -> None:
    _edit(content_dir, "orders.toml", "weight = 10", "weight = 0")
    _edit(content_dir, "account.toml", "\n[[intent]]\n", "\n[[intent]]\nmood = 1\n")
    _edit(content_dir, "out_of_scope.toml", "{city}", "{town}")
    problems = _problems(content_dir)
    assert len(problems) >= 3
    assert {p.split(":")[0] for p in problems} >= {
        "orders.toml",
        "account.toml",
        "out_of_scope.toml",
    }
    assert any("unknown placeholder {town}" in p and "slots of [oos.slots]" in p for p in problems)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no such folder"):
        load_content(tmp_path / "nowhere")


def test_unused_shared_list_and_followup(content_dir: Path) -> None:
    _edit(content_dir, "company.toml", "\n[lists]\n", '\n[lists]\nspare = ["a", "b"]\n')
    # A lost [[intent.outcome.followup]] header would leave its keys in a shared follow-up.
    _edit(
        content_dir,
        "orders.toml",
        "\n[followups.refund_time]\n",
        '\n[followups.unused]\nasks = ["a?"]\nanswers = ["b."]\n\n[followups.refund_time]\n',
    )
    problems = "\n".join(_problems(content_dir))
    assert 'shared list "spare" is never used' in problems
    assert 'shared follow-up "unused" is never used' in problems


def test_non_utf8_file(content_dir: Path) -> None:
    (content_dir / "billing.toml").write_bytes(b'name = "caf\xe9"\n')
    assert _one_problem(content_dir).startswith("billing.toml: not UTF-8 text")
