"""The `/faq` slash commands. Each reads the interaction, asks the moderators' service
(`bot.faq.service`) and draws what it returns (`views`, `form`); nothing here decides a rule."""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs._errors import NO_PINGS, custom_id_of, given, guarded_autocomplete
from bot.cogs._ui import choices
from bot.cogs.faq import suggest, teach, views
from bot.cogs.faq.access import (
    COG_NAME,
    actor_of,
    guild_of,
    host_of,
    interaction_may_moderate,
    refuse_unless_moderator,
)
from bot.cogs.faq.form import FaqForm, form_target, save_unowned
from bot.discord_app import MythBot
from bot.faq.drafts import Draft
from bot.faq.service import FaqService, Listing, Outcome, Purpose
from bot.storage.base import Actor

Action = Callable[[int, Actor, str], Awaitable[Outcome]]  # guild, who, entry id


Complete = Callable[[discord.Interaction[Any], str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]


def _entry_option(purpose: Purpose) -> Complete:
    @guarded_autocomplete
    async def complete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        host = host_of(interaction)
        if not interaction_may_moderate(interaction, host.moderator_role_ids):
            return []
        found = host.service.choices(guild_of(interaction), purpose, current)
        return choices((entry_id, f"{title} ({entry_id})") for entry_id, title in found)

    return complete


def _taught_entry_option() -> Complete:
    @guarded_autocomplete
    async def complete(interaction: discord.Interaction[Any], current: str) -> list[app_commands.Choice[str]]:
        if not interaction_may_moderate(interaction, host_of(interaction).moderator_role_ids):
            return []
        found = teach.teaching_of(interaction).untrain_choices(guild_of(interaction), current)
        return choices((entry_id, f"{title} ({entry_id})") for entry_id, title in found)

    return complete


@app_commands.guild_only()
@app_commands.default_permissions(manage_messages=True)
class FaqCommands(commands.GroupCog, name=COG_NAME, group_name="faq",
                  group_description="Manage this server's FAQ (moderators)"):
    def __init__(self, bot: MythBot, service: FaqService, moderator_role_ids: tuple[int, ...]) -> None:
        self.bot = bot
        self.service = service
        self.moderator_role_ids = moderator_role_ids

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(*views.DYNAMIC_ITEMS, *teach.DYNAMIC_ITEMS)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*views.DYNAMIC_ITEMS, *teach.DYNAMIC_ITEMS)

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)  # a refusal raises CheckFailure, which needs nothing more

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[MythBot]) -> None:
        """Save our forms that no live form owns, instead of letting discord.py drop them silently."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        target = form_target(custom_id_of(interaction))
        if target is not None and not self.bot.live_ui_owns(interaction):
            await save_unowned(interaction, *target)

    async def _act(self, interaction: discord.Interaction[Any], action: Action, entry_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await views.reply(interaction, await action(guild_of(interaction), actor_of(interaction), entry_id))

    @app_commands.command(name="add", description="Write a new FAQ entry for this server")
    async def add(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(FaqForm(Draft()))

    @app_commands.command(name="edit", description="Edit one of this server's entries")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to edit")
    @app_commands.autocomplete(entry_id=_entry_option("edit"))
    async def edit(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        form = self.service.edit_form(guild_of(interaction), entry_id)
        if isinstance(form, Outcome):
            await views.reply(interaction, form)
        else:
            await interaction.response.send_modal(FaqForm(form.draft, entry_id, form.revision))

    @app_commands.command(name="remove", description="Retire one of this server's entries, or hide a curated one")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to remove")
    @app_commands.autocomplete(entry_id=_entry_option("remove"))
    async def remove(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        prompt = self.service.removal(guild_of(interaction), entry_id)
        if isinstance(prompt, Outcome):
            await views.reply(interaction, prompt)
        else:
            await views.reply(interaction, Outcome(views.prompt_text(prompt)), view=views.confirm_view(prompt))

    @app_commands.command(name="restore", description="Bring back a retired entry, or show a hidden curated one")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to bring back")
    @app_commands.autocomplete(entry_id=_entry_option("restore"))
    async def restore(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        await self._act(interaction, self.service.restore, entry_id)

    @app_commands.command(name="hide", description="Stop a curated entry answering in this server")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The curated entry to hide here")
    @app_commands.autocomplete(entry_id=_entry_option("hide"))
    async def hide(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        await self._act(interaction, self.service.hide, entry_id)

    @app_commands.command(name="unhide", description="Let a hidden curated entry answer in this server again")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The curated entry to show again")
    @app_commands.autocomplete(entry_id=_entry_option("unhide"))
    async def unhide(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        await self._act(interaction, self.service.unhide, entry_id)

    @app_commands.command(name="list", description="List the FAQ entries of this server and the curated ones")
    @app_commands.describe(which="Which entries to list", page="Page to start on")
    async def list_entries(self, interaction: discord.Interaction[Any], which: Listing = "all",
                           page: app_commands.Range[int, 1, 10000] = 1) -> None:
        embed, view = views.list_page(self.service.page(guild_of(interaction), which, page - 1))
        await interaction.response.send_message(embed=embed, view=given(view), ephemeral=True,
                                                allowed_mentions=NO_PINGS)

    @app_commands.command(name="show", description="Show one entry, with who changed it and when")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to show")
    @app_commands.autocomplete(entry_id=_entry_option("show"))
    async def show(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # its history may be read from disk
        card = await self.service.card(guild_of(interaction), entry_id)
        if card is None:
            await views.reply(interaction, Outcome(f"No entry with id `{entry_id}`.", ok=False))
        else:
            await interaction.followup.send(f"`{entry_id}`", embed=views.card_embed(card),
                                            view=given(teach.card_view(card)), ephemeral=True,
                                            allowed_mentions=NO_PINGS)

    @app_commands.command(name="gaps", description="Questions that got no answer, grouped, most asked first")
    @app_commands.describe(days="How far back to look (days)")
    async def gaps(self, interaction: discord.Interaction[Any], days: app_commands.Range[int, 1, 365] = 30) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.service.gaps(guild_of(interaction), days)
        if isinstance(report, Outcome):
            await views.reply(interaction, report)
            return
        embed = discord.Embed(title="Unanswered questions", description=views.gaps_text(report))
        view = await teach.gaps_view(interaction, report)  # "answer these with…" under the most asked groups
        await interaction.followup.send(embed=embed, view=given(view), ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="stats", description="How the bot did here: questions per day, top entries, votes")
    @app_commands.describe(days="How many days to show, ending today (UTC)")
    async def stats(self, interaction: discord.Interaction[Any], days: app_commands.Range[int, 1, 365] = 7) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await views.reply(interaction, await self.service.stats(guild_of(interaction), days))

    @app_commands.command(name="suggestions", description="Phrasings members' picks suggest: teach or dismiss each")
    @app_commands.describe(page="Page to start on")
    async def suggestions(self, interaction: discord.Interaction[Any],
                          page: app_commands.Range[int, 1, 10000] = 1) -> None:
        await suggest.send_suggestions(interaction, page - 1)

    @app_commands.command(name="untrain", description="Forget phrasings taught for an entry in this server")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry whose taught phrasings to forget")
    @app_commands.autocomplete(entry_id=_taught_entry_option())
    async def untrain(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        await teach.offer_untrain(interaction, entry_id)

    @app_commands.command(name="reload", description="Re-read the curated knowledge files (kept only if valid)")
    async def reload(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await views.reply(interaction, await self.service.reload(guild_of(interaction), actor_of(interaction)))

    @app_commands.command(name="export", description="Download this server's entries as YAML for the curated base")
    async def export(self, interaction: discord.Interaction[Any]) -> None:
        await views.reply(interaction, await self.service.export(guild_of(interaction)))
