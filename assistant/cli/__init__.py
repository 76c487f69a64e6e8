"""The `assistant` command line: a thin layer over the library.

Each command parses its options, calls one library function and turns library errors
into a one-line message with a non-zero exit code. Heavy imports (torch, faiss, textual)
happen inside the commands so `--help` stays fast.

What the commands print can quote customers, the log or files, so it goes through `echo`
(inert text: no escape sequence reaches the terminal) or `assistant.untrusted.json_dumps`;
error messages are made inert too. An unexpected error prints a short report without a
traceback (`assistant.crash`: tracebacks can quote customer text) and exits 1.
"""

from __future__ import annotations

import os
import sys
import time

import click

from assistant import __version__
from assistant.untrusted import inert
from kb.errors import AssistantError  # the base of every package's errors


def echo(message: str = "", err: bool = False) -> None:
    """`click.echo` for text that may quote customers, the log or files: printed inert."""
    click.echo(inert(message), err=err)


class _Group(click.Group):
    """A click group that prints library errors without a traceback and times every command."""

    def invoke(self, ctx: click.Context):  # noqa: D401 - click API
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            raise click.ClickException(inert(str(exc))) from None
        except click.ClickException as exc:  # e.g. a bad --db value, quoted back by click
            exc.message = inert(exc.message)
            raise


def timed(fn):
    """Decorate a command so it prints its elapsed time on stderr when it finishes."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            if os.environ.get("RANK", "0") == "0":  # one line under torchrun, not one per process
                click.echo(f"elapsed: {time.perf_counter() - start:.1f}s", err=True)

    wrapper.timed = True  # every command has it: tests/test_durability.py checks
    return wrapper


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="assistant")
def cli() -> None:
    """Offline customer-service assistant: train, evaluate, search the KB and chat.

    Example:

        assistant demo
    """


@cli.group(cls=_Group, name="train")
def train_group() -> None:
    """Train the intent classifier or the response ranker.

    Example:

        assistant train intent --data intents.csv --out models/intent
    """


@cli.group(cls=_Group, name="eval")
def eval_group() -> None:
    """Evaluate a trained model or a knowledge-base index on labelled data.

    Example:

        assistant eval intent --model models/intent --data test.csv --json
    """


def _register() -> None:
    from assistant.cli import train as _train  # noqa: F401  (registers commands)

    for name in (
        "kb",
        "chat",
        "ask",
        "demo",
        "log",
        "tickets",
        "models",
        "retrain",
        "report",
        "bank",
        "triage",
        "eval",
    ):
        try:
            __import__(f"assistant.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"assistant.cli.{name}":
                raise


_register()


def main() -> None:
    """Entry point of the `assistant` console script.

    An error no command anticipated is reported by its type and place only, and exits 1:
    its message and traceback may quote customer text (ASSISTANT_DEBUG=1 shows them).
    """
    from assistant.crash import crash_report, debug_enabled

    try:
        cli(prog_name="assistant")
    except Exception as exc:
        if debug_enabled():
            raise
        # argv names the command only when it is one: anything else may be customer text.
        name = next((arg for arg in sys.argv[1:2] if arg in cli.commands), None)
        what = f"`assistant {name}`" if name else "`assistant`"
        click.echo(f"Error: {crash_report(exc, what)}", err=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
