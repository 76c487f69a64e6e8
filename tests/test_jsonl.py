"""kb/jsonl.py: the JSON Lines reader shared by kb and training, with file:line errors."""

from __future__ import annotations

import pytest

from kb.errors import DataError, KBInputError
from kb.jsonl import parse_jsonl, read_jsonl, read_text


def test_objects_with_their_line_numbers(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n  \n{"a": 2}\n')  # a BOM and blank lines
    assert read_jsonl(path) == [(1, {"a": 1}), (4, {"a": 2})]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a": 1}\n{"a": \n', r"d\.jsonl:2: invalid JSON \(Expecting value at column 7\)"),
        (b'{"a": 1}\n[1, 2]\n', r"d\.jsonl:2: expected a JSON object, got list"),
        (b'{"a": 1}\n{"b": "\xe9"}\n', r"d\.jsonl:2: not valid UTF-8 \(byte 0xe9"),
        (b" \n\n", r"d\.jsonl: the file is empty"),
    ],
)
def test_errors_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "d.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_jsonl(path)


def test_the_caller_chooses_the_error_class(tmp_path):
    with pytest.raises(KBInputError, match="q.jsonl:1: invalid JSON"):
        list(parse_jsonl("{oops", "q.jsonl", KBInputError))
    with pytest.raises(KBInputError, match="file not found"):
        read_text(tmp_path / "none.jsonl", KBInputError)
    with pytest.raises(DataError, match="is a directory"):
        read_text(tmp_path)
    assert read_text(_empty(tmp_path), allow_empty=True) == ""


def _empty(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    return path
