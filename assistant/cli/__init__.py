"""The `assistant` command line: a thin layer over the library.

Each command parses its options, calls one library function and turns library errors
into a one-line message with a non-zero exit code. Heavy imports (torch, faiss, textual)
happen inside the commands so `--help` stays fast.
"""

from __future__ import annotations

import os
import sys
import time

import click

from assistant import __version__
from kb.errors import AssistantError  # the base of every package's errors


class _Group(click.Group):
    """A click group that prints library errors without a traceback and times every command."""

    def invoke(self, ctx: click.Context):  # noqa: D401 - click API
        try:
            return super().invoke(ctx)
        except AssistantError as exc:
            raise click.ClickException(str(exc)) from None


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

    for name in ("kb", "chat", "ask", "demo", "log"):
        try:
            __import__(f"assistant.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"assistant.cli.{name}":
                raise


_register()


def main() -> None:
    """Entry point of the `assistant` console script."""
    cli(prog_name="assistant")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
