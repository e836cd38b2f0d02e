"""Who may use `/faq`, and how a command, button or form reaches the moderators' service.

Discord hides the group from members without Manage Messages (`default_permissions`), but server admins
can change that, so every command, button, form and autocomplete checks again here: Manage Messages
server-wide (a channel overwrite is not enough: every change applies to the whole server), or a role in
`MYTHBOT_MODERATOR_ROLE_IDS`.
"""

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import discord

from bot.cogs._errors import NO_PINGS
from bot.discord_app import MythBot
from bot.faq.service import FaqService
from bot.storage.base import Actor

COG_NAME = "FAQ"
REFUSAL = "Only moderators can manage the FAQ: it takes the Manage Messages permission or a moderator role."


@runtime_checkable
class FaqHost(Protocol):
    """What the `/faq` cog offers its buttons and forms."""

    service: FaqService
    moderator_role_ids: tuple[int, ...]


def host_of(interaction: discord.Interaction[Any]) -> FaqHost:
    """The loaded `/faq` cog of the bot this interaction reached."""
    cog = MythBot.of(interaction).get_cog(COG_NAME)
    if not isinstance(cog, FaqHost):
        raise LookupError("the /faq cog is not loaded")
    return cog


def may_moderate(manage_messages: bool, role_ids: Iterable[int], moderator_role_ids: Iterable[int]) -> bool:
    """Manage Messages, or any role listed in the settings."""
    return manage_messages or not set(role_ids).isdisjoint(moderator_role_ids)


def interaction_may_moderate(interaction: discord.Interaction[Any], moderator_role_ids: Iterable[int]) -> bool:
    """The check for one interaction: guild only, with the member's server-wide permissions.

    Not `interaction.permissions`: those are resolved in the channel, so Manage Messages granted in one
    channel only would unlock changes that apply to the whole server."""
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        return False
    permissions = interaction.user.guild_permissions  # roles and ownership; no channel overwrites
    role_ids = (role.id for role in interaction.user.roles)
    return may_moderate(permissions.manage_messages or permissions.administrator, role_ids, moderator_role_ids)


async def refuse_unless_moderator(interaction: discord.Interaction[Any]) -> bool:
    """True for moderators; everyone else gets a short private refusal."""
    if interaction_may_moderate(interaction, host_of(interaction).moderator_role_ids):
        return True
    if not interaction.response.is_done():
        await interaction.response.send_message(REFUSAL, ephemeral=True, allowed_mentions=NO_PINGS)
    return False


def actor_of(interaction: discord.Interaction[Any]) -> Actor:
    return Actor(interaction.user.id, str(interaction.user))


def guild_of(interaction: discord.Interaction[Any]) -> int:
    """The server of an interaction that passed the moderator check (which refuses DMs)."""
    if interaction.guild_id is None:
        raise LookupError("/faq works in a server only")
    return interaction.guild_id
