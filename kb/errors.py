"""Every error the project reports to a user, in one tree (this is the lowest layer, so kb/,
the runtime and training all derive their errors from here; the CLI catches the base only).

AssistantError            base class; the CLI prints its message without a traceback, exits 1
├── DataError             an input file is malformed (file, line, value, fix in the message)
├── ModelError            a model directory is missing, incomplete or incompatible
├── ConfigError           a configuration value is out of range (also a ValueError)
├── LogError              the conversation log cannot be opened or migrated (`assistant.errors`)
└── KBError               a knowledge-base error
    ├── KBInputError      the docs folder or a query is unusable (names the file / value)
    └── KBIndexError      an index directory is missing, corrupted or built with another model

Messages say what went wrong, show the offending value (file:line where there is one) and
say how to fix it.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error reported to a user."""


class DataError(AssistantError):
    """An input file is malformed; the message names the file, line and value."""


class ModelError(AssistantError):
    """A model directory is missing, incomplete or was built for something else."""


class ConfigError(AssistantError, ValueError):
    """A configuration value is invalid."""


class KBError(AssistantError):
    """Base class for every knowledge-base error."""


class KBInputError(KBError):
    """The docs folder, a document or a query cannot be used."""


class KBIndexError(KBError):
    """An index directory is missing a file, is corrupted, or does not match the model."""


__all__ = [
    "AssistantError",
    "DataError",
    "ModelError",
    "ConfigError",
    "KBError",
    "KBInputError",
    "KBIndexError",
]
