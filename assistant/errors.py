"""The runtime's errors. The whole tree, with its base `AssistantError`, is documented and
defined in `kb.errors` (the lowest layer); the shared classes are re-exported here so runtime
code imports its errors from one place. The runtime adds two of its own:

AssistantError
├── LogError              the conversation log cannot be opened, migrated or written
└── TicketError           a ticket action cannot be done (no such ticket, closed, bad value)
    └── ClaimError        another agent has the ticket (`holder` says who)
"""

from __future__ import annotations

from kb.errors import AssistantError, ConfigError, DataError, ModelError


class LogError(AssistantError):
    """The conversation log cannot be opened, migrated or written."""


class TicketError(AssistantError):
    """A ticket action cannot be done: no such ticket or turn, the ticket is closed, a bad
    label or priority (the message names the value and what to do instead)."""


class ClaimError(TicketError):
    """Another agent has the ticket; `holder` is who."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


__all__ = [
    "AssistantError",
    "DataError",
    "ModelError",
    "ConfigError",
    "LogError",
    "TicketError",
    "ClaimError",
]
