"""A passage of the knowledge base: what a search returns and what a reply cites.

One record from the index to the screen: `KnowledgeBase.search` returns it, the dialogue
engine cites it (`assistant.reply.Citation` is this class), and `to_dict` is its JSON shape
everywhere: `assistant kb search --json`, the citations of `assistant ask --json`, and the
citations stored with an assistant turn in the conversation log.

>>> p = Passage("billing/refunds", "Refunds", "How long it takes", "billing/refunds.md", 0.71)
>>> p.heading
'Refunds › How long it takes'
>>> Passage.from_dict(p.to_dict()) == p
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from kb.errors import KBInputError

# Between an article's title and the heading trail of a passage in it, wherever one is shown.
HEADING_SEPARATOR = " › "


@dataclass(frozen=True)
class Passage:
    """A passage of an article and its relevance score (higher is better)."""

    article_id: str  # e.g. "billing/refunds"
    title: str  # the article's title
    section: str  # heading trail within the article, "" for the introduction
    source: str  # file the article came from, relative to the docs folder
    score: float  # retrieval score of the query that found it (higher is better)
    text: str = ""  # the passage text

    @property
    def heading(self) -> str:
        """ "Title › Section", or the title alone when the passage has no section of its own.

        >>> Passage("a", "Fees", "", "a.md", 0.5).heading
        'Fees'
        """
        if self.section and self.section != self.title:
            return f"{self.title}{HEADING_SEPARATOR}{self.section}"
        return self.title

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: {"article_id", "title", "section", "source", "score", "text"}."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Passage:
        """The passage `to_dict` gave, e.g. read back from the log or `kb search --json`.

        `article_id` and `score` are required; the other fields default to "" (turns logged
        before citations were stored whole hold only article_id, section and score). Keys of
        a later version are ignored. Raises KBInputError naming a missing or mistyped field.
        """
        if not isinstance(data, Mapping):
            raise KBInputError(f"a passage must be a JSON object, got {data!r}")
        missing = [name for name in ("article_id", "score") if name not in data]
        if missing:
            raise KBInputError(f"passage {dict(data)!r} lacks {' and '.join(missing)}")
        score = data["score"]
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise KBInputError(
                f"passage {data['article_id']!r}: score must be a number, got {score!r}"
            )
        strings = {name: data.get(name, "") for name in _STRING_FIELDS}
        for name, value in strings.items():
            if not isinstance(value, str):
                raise KBInputError(
                    f"passage {data['article_id']!r}: {name} must be a string, got {value!r}"
                )
        return cls(score=float(score), **strings)


_STRING_FIELDS = tuple(f.name for f in fields(Passage) if f.name != "score")

__all__ = ["HEADING_SEPARATOR", "Passage"]
