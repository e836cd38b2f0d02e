"""Exercise lookups: /exercise with fuzzy autocomplete, and /exercises filtered by muscle or equipment.
Both read the server's view of the knowledge: an exercise its moderators hid is gone, its own are there."""

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs._errors import NO_PINGS, guarded_autocomplete
from bot.cogs._ui import (
    GONE_TEXT,
    MAX_CHOICES,
    Paginator,
    answer_view,
    choices,
    exercise_embed,
    knowledge_for,
    paged_embeds,
)
from bot.discord_app import MythBot
from bot.engine.schema import ExerciseEntry


def filter_exercises(exercises: list[ExerciseEntry], muscle: str | None, equipment: str | None) -> list[ExerciseEntry]:
    def has(values: list[str], wanted: str | None) -> bool:
        return wanted is None or any(wanted.casefold() in value.casefold() for value in values)

    return [e for e in exercises if has([*e.muscles, *e.secondary_muscles], muscle) and has(e.equipment, equipment)]


def distinct(values: list[str]) -> list[str]:
    return sorted({v.casefold(): v for v in values}.values(), key=str.casefold)


def matching_choices(values: list[str], typed: str) -> list[app_commands.Choice[str]]:
    return choices((v, v) for v in distinct(values) if typed.casefold() in v.casefold())


class Exercises(commands.Cog):
    def __init__(self, bot: MythBot) -> None:
        self.bot = bot

    @app_commands.command(name="exercise", description="How to do an exercise, what it trains and the evidence")
    @app_commands.describe(name="start typing: clamshell, hip thrust, curtsy lunge…")
    async def exercise(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        knowledge = knowledge_for(interaction)
        found = knowledge.find_exercise(name)
        view = knowledge.view(found.id) if found else None
        if view is None and knowledge.gone(name.strip().lower()):  # picked from suggestions shown before
            await interaction.response.send_message(GONE_TEXT, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        if view is None:
            suggestions = knowledge.exercise_suggestions(name)
            text = f"No exercise clearly matches “{discord.utils.escape_markdown(name)}”."
            if suggestions:
                text += " Did you mean: " + ", ".join(f"**{s}**" for s in suggestions) + "?"
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.send_message(embed=exercise_embed(view), view=answer_view(view, []),
                                                allowed_mentions=NO_PINGS)

    @exercise.autocomplete("name")
    @guarded_autocomplete
    async def exercise_name(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        knowledge = knowledge_for(interaction)
        return choices(knowledge.titles(c.entry for c in knowledge.exercise_choices(current, limit=MAX_CHOICES)))

    @app_commands.command(name="exercises", description="Browse exercises by muscle or equipment")
    @app_commands.describe(muscle="e.g. glute medius", equipment="e.g. band, cable, none")
    async def exercises(self, interaction: discord.Interaction, muscle: str | None = None,
                        equipment: str | None = None) -> None:
        found = filter_exercises(knowledge_for(interaction).exercises(), muscle, equipment)
        lines = [f"**{e.title}**: {', '.join(e.muscles)}" + (f" · {', '.join(e.equipment)}" if e.equipment else "")
                 for e in found]
        title = "Exercises" + (f" for {muscle}" if muscle else "") + (f" with {equipment}" if equipment else "")
        pages = paged_embeds(title, lines or ["No exercise matches; try a broader word."], per_page=8)
        if len(pages) > 1:
            await interaction.response.send_message(embed=pages[0], view=Paginator(pages, interaction.user.id),
                                                    ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(embed=pages[0], ephemeral=True, allowed_mentions=NO_PINGS)

    @exercises.autocomplete("muscle")
    @guarded_autocomplete
    async def muscle_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        exercises = knowledge_for(interaction).exercises()
        return matching_choices([m for e in exercises for m in (*e.muscles, *e.secondary_muscles)], current)

    @exercises.autocomplete("equipment")
    @guarded_autocomplete
    async def equipment_choices(self, interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        return matching_choices([q for e in knowledge_for(interaction).exercises() for q in e.equipment], current)


async def setup(bot: MythBot) -> None:
    await bot.add_cog(Exercises(bot))
