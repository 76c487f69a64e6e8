"""`Spool`: exchanges the log could not take, kept durably beside it until it can.

    spool = Spool.beside(log.path)         # conversations.db.spool.jsonl
    spool.append(exchange)                 # on disk (fsync) when it returns: the reply may show
    result = spool.replay(log)             # at the next start: into the log, then the file goes
    print(result.message())

When the log is busy for too long, read-only or full, the assistant does not show a reply it
could not store: it appends the prepared exchange (`ConversationLog.prepare_exchange`: rows
already redacted, ids and times chosen, so the spool holds exactly what the database would) to
this JSON-lines file, fsyncs it, and only then shows the reply and tells the user. The next
assistant that opens the log writes the spooled exchanges into it (`replay`), each in one
transaction and each at most once (`write_exchange` skips an exchange whose turns are there), so
a replay cut short by a crash is simply done again.

Several processes may append and replay at once: every access holds an exclusive `flock` on the
file, and an appender that finds the file it opened already replayed and removed opens a new
one. A line cut short by a crash while it was written was never acknowledged (the reply was not
shown), so a last line without its newline is ignored; a damaged line elsewhere keeps the whole
file (renamed with a timestamp) for a person to look at, after the readable lines were written.
The file is created with mode 0600: it holds customer data, like the log.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from assistant.errors import LogError
from assistant.log.store import ConversationLog, Exchange

try:  # POSIX; elsewhere one process at a time must use a spool
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

SPOOL_SUFFIX = ".spool.jsonl"  # beside the log: conversations.db.spool.jsonl
FORMAT = 1  # the "format" field of each line


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    """Make a file's creation, rename or removal itself durable (its folder's entry)."""
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms that cannot open a folder
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on a folder
        pass
    finally:
        os.close(fd)


@dataclass
class Replay:
    """What `Spool.replay` did."""

    path: Path  # the spool file
    written: int = 0  # exchanges written into the log now
    already: int = 0  # exchanges that were in the log already (a replay done before)
    left: int = 0  # exchanges still in the spool (see `error`); -1: the file could not be read
    damaged: int = 0  # lines that could not be read (kept in `kept_at`)
    error: str = ""  # why the log refused the rest
    kept_at: Path | None = None  # where a spool with damaged lines was moved

    def message(self) -> str:
        """A line for the user ("" when there was nothing to do)."""
        parts = []
        if self.written:
            parts.append(
                f"{self.written} exchange(s) saved in {self.path} while the log could not be "
                "written were written to the log now."
            )
        if self.left:
            count = f"{self.left} exchange(s) are" if self.left > 0 else "Exchanges may be"
            parts.append(
                f"{count} still waiting in {self.path}, not yet in the log ({self.error}). "
                "They will be written the next time that works."
            )
        if self.damaged:
            parts.append(
                f"{self.damaged} line(s) of the spool could not be read; the file was kept as "
                f"{self.kept_at} for a person to look at."
            )
        return " ".join(parts)


class Spool:
    """A JSON-lines file of prepared exchanges waiting for the log (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @classmethod
    def beside(cls, log_path: str | os.PathLike[str]) -> Spool:
        """The spool of the log at `log_path`: `<log file>.spool.jsonl` in the same folder."""
        log_path = Path(log_path)
        return cls(log_path.with_name(log_path.name + SPOOL_SUFFIX))

    def __len__(self) -> int:
        """How many complete lines are waiting (0 when there is no file)."""
        try:
            return self.path.read_bytes().count(b"\n")
        except OSError:  # no file (or none that can be read)
            return 0

    def append(self, exchange: Exchange) -> None:
        """Add `exchange` and fsync it: when this returns, the exchange survives a crash.

        Raises LogError when it cannot be saved (a full disk, a read-only folder); then nothing
        of it is left in the file.
        """
        line = json.dumps({"format": FORMAT, "exchange": exchange.to_dict()}) + "\n"
        data = line.encode("ascii")  # json.dumps escapes every non-ASCII character
        try:
            self._append(data)
        except OSError as exc:
            raise LogError(
                f"Could not save the exchange to {self.path} either: {exc.strerror or exc}."
            ) from exc

    def _append(self, data: bytes) -> None:
        while True:
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                with _locked(fd):
                    if os.fstat(fd).st_nlink == 0:
                        continue  # replayed and removed while we waited: open a new file
                    start = os.lseek(fd, 0, os.SEEK_END)
                    try:
                        view = memoryview(data)
                        while view:
                            view = view[os.write(fd, view) :]
                        os.fsync(fd)
                    except OSError:
                        try:  # leave no half line behind for the next append to follow
                            os.ftruncate(fd, start)
                            if created and start == 0:
                                os.unlink(self.path)  # and no empty file of our making
                        except OSError:
                            pass
                        raise
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.path)
            return

    def replay(self, log: ConversationLog) -> Replay:
        """Write every waiting exchange into `log`; remove the file once all of them are in."""
        result = Replay(self.path)
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return result
        except OSError as exc:
            result.error = f"the file could not be opened: {exc.strerror or exc}"
            result.left = len(self) or -1  # -1: an unknown number
            return result
        try:
            with _locked(fd):
                if os.fstat(fd).st_nlink == 0:
                    return result  # another process replayed it meanwhile
                exchanges, result.damaged = self._read(fd)
                for i, exchange in enumerate(exchanges):
                    try:
                        if log.write_exchange(exchange):
                            result.written += 1
                        else:
                            result.already += 1
                    except LogError as exc:
                        result.left = len(exchanges) - i
                        result.error = str(exc)
                        return result  # the file stays whole; written ones are skipped next time
                if result.damaged:
                    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
                    result.kept_at = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
                    os.replace(self.path, result.kept_at)
                else:
                    os.unlink(self.path)
                _fsync_dir(self.path)
        finally:
            os.close(fd)
        return result

    @staticmethod
    def _read(fd: int) -> tuple[list[Exchange], int]:
        """The exchanges in the file, and how many complete lines could not be read."""
        chunks = []
        os.lseek(fd, 0, os.SEEK_SET)
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        lines = b"".join(chunks).split(b"\n")
        lines.pop()  # after the last newline: empty, or a line never acknowledged (a crash)
        exchanges, damaged = [], 0
        for line in lines:
            try:
                entry = json.loads(line)
                if entry.get("format") != FORMAT:
                    raise LogError(f"unknown spool format {entry.get('format')!r}")
                exchanges.append(Exchange.from_dict(entry["exchange"]))
            except (ValueError, KeyError, AttributeError, LogError):
                damaged += 1
        return exchanges, damaged


__all__ = ["FORMAT", "SPOOL_SUFFIX", "Replay", "Spool"]
