"""The /faq cog in the real bot, driven through the real discord.py client against the stand-in.

Members are told apart by their roles in the stand-in's guild: `regular` has a role with no
permissions, `role_moderator` has the role listed in `moderator_role_ids`, `moderator` has Manage
Messages (the stand-in's "Moderator" role) and `admin` has Administrator.
"""

import logging

import pytest

from bot.discord_app import create_bot
from bot.settings import load_settings
from tests.standin.world import Perm

EPHEMERAL = 64
CHANNEL_MESSAGE, DEFERRED, UPDATE_MESSAGE, AUTOCOMPLETE, MODAL = 4, 5, 7, 8, 9


@pytest.fixture
def roles(fake_discord):
    """Roles beyond the stand-in's defaults; they must exist before the bot starts."""
    return {
        "regular": fake_discord.add_role("Regular"),
        "faq": fake_discord.add_role("FAQ moderator"),
        "admin": fake_discord.add_role("Admin", Perm.ADMINISTRATOR),
    }


@pytest.fixture
async def faq_bot(fake_discord, start_bot, roles, kb_copy, tmp_path):
    settings = load_settings(knowledge_dir=kb_copy, data_dir=tmp_path / "data",
                             moderator_role_ids=(roles["faq"].id,))
    return await start_bot(create_bot(settings))


@pytest.fixture
def guild_id(fake_discord):
    return fake_discord.guild.id


@pytest.fixture
def regular(fake_discord, roles):
    return fake_discord.make_member("ana", roles=[roles["regular"]])


@pytest.fixture
def role_moderator(fake_discord, roles):
    return fake_discord.make_member("ana", roles=[roles["faq"]])


@pytest.fixture
def moderator(fake_discord):
    return fake_discord.make_moderator("bo")


@pytest.fixture
def admin(fake_discord, roles):
    return fake_discord.make_member("cy", roles=[roles["admin"]])


@pytest.fixture(autouse=True)
def no_errors_logged(caplog):
    """A test fails when discord.py (or the bot) logs an error: that is a crash a user would see."""
    yield
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def slash(fake, command, options=None, *, user, **where):
    """`/faq <command>`; returns the interaction (await `.response()` / `.followup()` on it)."""
    return await fake.inject_slash_command(f"faq {command}", options or {}, user=user, **where)


async def answered_in_full(interaction):
    """The bot's deferral and then the follow-up it sent: `(callback, follow-up message)`."""
    callback = await interaction.response()
    assert callback.type == DEFERRED and callback.ephemeral
    return callback, await interaction.followup(0)


def form_values(modal_data):
    """custom_id -> prefilled value of every text input in a modal the bot opened."""
    found = {}
    for row in modal_data["components"]:
        for item in row.get("components") or [row.get("component")]:
            found[item["custom_id"]] = item.get("value")
    return found
