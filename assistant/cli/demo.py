"""`assistant demo`: train the demo models and KB on first run, then open the chat."""

from __future__ import annotations

import click

from assistant.cli import cli, timed


@cli.command("demo")
@click.option("--no-chat", is_flag=True, help="Prepare everything, print where it is, and exit.")
@click.option("--force", is_flag=True, help="Retrain and rebuild even if the demo is prepared.")
@timed
def demo_cmd(no_chat: bool, force: bool) -> None:
    """Try the assistant on the bundled demo company (Nimbus Home).

    The first run trains the demo intent classifier and response ranker and builds the
    knowledge-base index into the user data directory (a few minutes on a laptop CPU; set
    ASSISTANT_HOME to choose the directory). Later runs open the chat at once.

    Example:

        assistant demo --no-chat && assistant ask "my camera is offline"
    """
    from assistant.paths import user_home

    home = user_home()
    from assistant.demo.prepare import demo_paths, is_prepared

    if force or not is_prepared(home):
        from assistant.demo.prepare import prepare_demo

        prepare_demo(home, force=force, log=click.echo)
    paths = demo_paths(home)
    if no_chat:
        click.echo(f"data directory: {home}")
        for k, v in paths.items():
            click.echo(f"  {k:>6}: {v}")
        click.echo('try: assistant ask "where is my order?"   or   assistant chat')
        return
    from assistant.cli.chat import run_chat_app
    from assistant.service import open_service

    run_chat_app(open_service(paths["intent"].parent, paths["kb"], paths["db"], background=True))
