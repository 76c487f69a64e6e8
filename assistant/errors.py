"""Exceptions raised by the assistant.

AssistantError            base class; the CLI prints its message without a traceback
├── DataError             an input file is malformed (file, line, value, fix in the message)
├── ModelError            a model directory is missing, incomplete or incompatible
├── ConfigError           a configuration value is out of range
└── LogError              the conversation log cannot be opened or migrated
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error the assistant reports to a user."""


class DataError(AssistantError):
    """An input file is malformed; the message names the file, line and value."""


class ModelError(AssistantError):
    """A model directory is missing, incomplete or was built for something else."""


class ConfigError(AssistantError, ValueError):
    """A configuration value is invalid."""


class LogError(AssistantError):
    """The conversation log cannot be opened, migrated or written."""


__all__ = ["AssistantError", "DataError", "ModelError", "ConfigError", "LogError"]
