"""The options many commands share: where the models, the knowledge base and the log are.

One definition each, so every command spells them, defaults them and explains them alike;
a command passes `help=` where the option means something more there (`retrain --db` is the
log it learns from), and `dest=` to keep its own parameter name.

>>> import click
>>> @click.command()
... @db_option()
... def show(db):
...     click.echo(db)
>>> from click.testing import CliRunner
>>> CliRunner().invoke(show, ["--db", "x.db"]).output
'x.db\\n'
"""

from __future__ import annotations

from pathlib import Path

import click

MODELS_HELP = "Directory with intent/ and ranker/ (default: the user data directory's models/)."
KB_HELP = "Knowledge-base index directory (default: the user data directory's kb/, if any)."
DB_HELP = "Conversation log, SQLite (default: the user data directory's conversations.db)."


def _directory_option(flag: str, dest: str, help: str, must_exist: bool):
    return click.option(
        flag,
        dest,
        metavar="DIR",
        type=click.Path(exists=must_exist, file_okay=False, path_type=Path if must_exist else None),
        default=None,
        help=help,
    )


def models_option(dest: str = "models", help: str = MODELS_HELP, must_exist: bool = False):
    """`--models DIR`: a models directory (a versioned one uses its current version)."""
    return _directory_option("--models", dest, help, must_exist)


def kb_option(dest: str = "kb_dir", help: str = KB_HELP, must_exist: bool = False):
    """`--kb DIR`: a knowledge-base index directory."""
    return _directory_option("--kb", dest, help, must_exist)


def db_option(dest: str = "db", help: str = DB_HELP, as_path: bool = False):
    """`--db PATH`: the conversation log (created if missing)."""
    return click.option(
        "--db",
        dest,
        metavar="PATH",
        type=click.Path(dir_okay=False, path_type=Path if as_path else None),
        default=None,
        help=help,
    )


def data_dir_models(models, kb_dir):
    """`--models` and `--kb` as given; without `--models`, the user data directory's models/
    (and its kb/ unless `--kb` is given) when there are any, as `ask` uses them. Returns
    (models or None, kb_dir or None)."""
    from assistant.paths import user_home

    if not models:
        home = user_home()
        if (home / "models").is_dir() and any((home / "models").iterdir()):
            models = home / "models"
            if kb_dir is None and (home / "kb" / "manifest.json").is_file():
                kb_dir = home / "kb"
    return models or None, kb_dir
