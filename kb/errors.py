"""Exceptions raised by the knowledge base (kb/ imports nothing from assistant/ or training/).

KBError                 base class; the CLI prints its message without a traceback
├── KBInputError        the docs folder or a query is unusable (names the file / value)
└── KBIndexError        an index directory is missing, corrupted or built with another model
"""

from __future__ import annotations


class KBError(Exception):
    """Base class for every knowledge-base error reported to a user."""


class KBInputError(KBError):
    """The docs folder, a document or a query cannot be used."""


class KBIndexError(KBError):
    """An index directory is missing a file, is corrupted, or does not match the model."""


__all__ = ["KBError", "KBInputError", "KBIndexError"]
