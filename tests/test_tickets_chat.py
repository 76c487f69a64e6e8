"""The customer's side of a ticket, driven with Pilot: the real service and log, an agent's
actions made through `assistant.tickets` on a second connection (as another process would).
"""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("textual")

from chat_helpers import run_chat, until  # noqa: E402
from fake_engine import ScriptedEngine  # noqa: E402
from textual.widgets import DataTable, Markdown  # noqa: E402

from assistant.errors import ConfigError  # noqa: E402
from assistant.log import ConversationLog  # noqa: E402
from assistant.service import AssistantService  # noqa: E402
from assistant.tickets import Tickets  # noqa: E402
from assistant.tui.app import (  # noqa: E402
    AgentMessage,
    AssistantMessage,
    BrowseScreen,
    ChatApp,
    NoteMessage,
)

SIZE = (110, 34)


@pytest.fixture
def two_sides(tmp_path):
    """A customer's service ("sam") and an agent's Tickets on another connection."""
    service = AssistantService(ScriptedEngine(), ConversationLog(tmp_path / "t.db"), customer="sam")
    agents_log = ConversationLog(tmp_path / "t.db")
    tickets = Tickets(agents_log)
    yield service, tickets
    tickets.close()
    agents_log.close()
    service.close()


async def send(pilot, text: str) -> None:
    await pilot.click("#prompt")
    await pilot.press(*text, "enter")


def shown(widget) -> str:
    return str(widget.render())


def test_an_agents_reply_shows_with_the_name_and_a_hand_back_lets_the_bot_answer(two_sides):
    service, tickets = two_sides

    async def drive() -> None:
        app = ChatApp(service)
        async with run_chat(app, size=SIZE) as pilot:
            await send(pilot, "I need a human please")
            await until(pilot, lambda: app.status == "human")
            (ticket,) = tickets.list("open")
            assert ticket.conversation_id == app.conversation_id
            tickets.claim(ticket.id, "ana")
            tickets.reply(ticket.id, "Hi, Ana here. Which order is it?", "ana")
            await until(pilot, lambda: list(app.query(AgentMessage)), timeout=5)
            (reply,) = app.query(AgentMessage)
            assert shown(reply) == "Hi, Ana here. Which order is it?"
            assert reply.border_title == "Agent · ana"
            await send(pilot, "NH-48213")  # to the ticket: the bot stays quiet
            await until(pilot, lambda: not app.busy)
            assert "human agent will reply" in shown(app.query(NoteMessage).last())
            assert tickets.get(ticket.id).last_customer_text == "NH-48213"
            tickets.resolve(ticket.id, "hand_back", "ana")
            await until(pilot, lambda: app.status == "bot", timeout=5)
            assert "handed you back" in shown(app.query(NoteMessage).last())
            await send(pilot, "and NH-48213 again?")
            await until(pilot, lambda: not app.busy)
            last = list(app.query(AssistantMessage))[-1]
            assert "I found NH-48213" in last.query_one(Markdown).source
            roles = [t.role for t in service.transcript(app.conversation_id)]
            assert roles[-1] == "assistant"  # the bot answered again

    asyncio.run(drive())


def test_a_conversation_closed_by_the_agent_becomes_read_only(two_sides):
    service, tickets = two_sides

    async def drive() -> None:
        app = ChatApp(service)
        async with run_chat(app, size=SIZE) as pilot:
            await send(pilot, "human please")
            await until(pilot, lambda: app.status == "human")
            (ticket,) = tickets.list("open")
            tickets.resolve(ticket.id, "close", "ana")
            await until(pilot, lambda: app.status == "closed", timeout=5)
            assert "was closed" in shown(app.query(NoteMessage).last())

    asyncio.run(drive())


def test_ctrl_o_lists_only_this_customers_conversations(two_sides, tmp_path):
    service, _ = two_sides
    other = AssistantService(ScriptedEngine(), ConversationLog(tmp_path / "t.db"), customer="kim")
    kims = other.new_conversation()
    other.respond(kims, "kim's private order NH-11111")
    anonymous = ConversationLog(tmp_path / "t.db")
    anonymous.new_conversation(channel="cli")
    mine = service.new_conversation()
    service.respond(mine, "sam's order NH-22222")

    async def drive() -> None:
        app = ChatApp(service)
        async with run_chat(app, size=SIZE) as pilot:
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
            table = app.screen.query_one(DataTable)
            assert [str(key.value) for key in table.rows] == [mine]

    asyncio.run(drive())
    with pytest.raises(ConfigError, match="not one of yours"):
        service.respond(kims, "let me in")
    assert [t.text for t in other.transcript(kims)][-1] != "let me in"
    other.close()
    anonymous.close()
