"""The Textual terminal chat behind `assistant chat`.

Importing this package imports Textual; the CLI does so only inside the `chat` command.
"""

from __future__ import annotations

from assistant.tui.app import Backend, ChatApp

__all__ = ["Backend", "ChatApp"]
