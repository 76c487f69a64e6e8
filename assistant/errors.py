"""The runtime's errors. The whole tree, with its base `AssistantError`, is documented and
defined in `kb.errors` (the lowest layer); the shared classes are re-exported here so runtime
code imports its errors from one place.
"""

from __future__ import annotations

from kb.errors import AssistantError, ConfigError, DataError, ModelError


class LogError(AssistantError):
    """The conversation log cannot be opened, migrated or written."""


__all__ = ["AssistantError", "DataError", "ModelError", "ConfigError", "LogError"]
