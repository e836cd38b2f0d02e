"""Exercise lookups: /exercise with fuzzy autocomplete, and /exercises filtered by muscle or equipment."""

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs._ui import GONE_TEXT, NO_PINGS, Paginator, answer_view, exercise_embed, paged_embeds
from bot.engine.schema import ExerciseEntry

CHOICE_NAME_MAX = 100
MAX_CHOICES = 25


def filter_exercises(exercises: list[ExerciseEntry], muscle: str | None, equipment: str | None) -> list[ExerciseEntry]:
    def has(values: list[str], wanted: str | None) -> bool:
        return wanted is None or any(wanted.casefold() in value.casefold() for value in values)

    return [e for e in exercises if not e.retired and has([*e.muscles, *e.secondary_muscles], muscle)
            and has(e.equipment, equipment)]


def distinct(values: list[str]) -> list[str]:
    return sorted({v.casefold(): v for v in values}.values(), key=str.casefold)


class Exercises(commands.Cog):
    def __init__(self, bot) -> None:
        self.bot = bot

    @app_commands.command(name="exercise", description="How to do an exercise, what it trains and the evidence")
    @app_commands.describe(name="start typing: clamshell, hip thrust, curtsy lunge…")
    async def exercise(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        engine = self.bot.engine
        found = engine.find_exercise(name)
        if found is None:
            suggestions = [engine.kb.entries[c.entry].title for c in engine.exercise_choices(name, limit=5)]
            text = f"No exercise clearly matches “{discord.utils.escape_markdown(name)}”."
            if suggestions:
                text += " Did you mean: " + ", ".join(f"**{s}**" for s in suggestions) + "?"
            return await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        view = engine.view(found.id)
        if view is None:
            return await interaction.response.send_message(GONE_TEXT, ephemeral=True, allowed_mentions=NO_PINGS)
        await interaction.response.send_message(embed=exercise_embed(view), view=answer_view(view, []),
                                                allowed_mentions=NO_PINGS)

    @exercise.autocomplete("name")
    async def exercise_name(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        engine = self.bot.engine
        return [app_commands.Choice(name=engine.kb.entries[c.entry].title[:CHOICE_NAME_MAX], value=c.entry)
                for c in engine.exercise_choices(current, limit=MAX_CHOICES)]

    @app_commands.command(name="exercises", description="Browse exercises by muscle or equipment")
    @app_commands.describe(muscle="e.g. glute medius", equipment="e.g. band, cable, none")
    async def exercises(self, interaction: discord.Interaction, muscle: str | None = None,
                        equipment: str | None = None) -> None:
        found = filter_exercises(list(self.bot.engine.kb.exercises), muscle, equipment)
        lines = [f"**{e.title}**: {', '.join(e.muscles)}" + (f" · {', '.join(e.equipment)}" if e.equipment else "")
                 for e in sorted(found, key=lambda e: e.title)]
        title = "Exercises" + (f" for {muscle}" if muscle else "") + (f" with {equipment}" if equipment else "")
        pages = paged_embeds(title, lines or ["No exercise matches; try a broader word."], per_page=8)
        view = Paginator(pages, interaction.user.id) if len(pages) > 1 else discord.utils.MISSING
        await interaction.response.send_message(embed=pages[0], view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    @exercises.autocomplete("muscle")
    async def muscle_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        values = distinct([m for e in self.bot.engine.kb.exercises for m in (*e.muscles, *e.secondary_muscles)])
        return [app_commands.Choice(name=v[:CHOICE_NAME_MAX], value=v[:CHOICE_NAME_MAX])
                for v in values if current.casefold() in v.casefold()][:MAX_CHOICES]

    @exercises.autocomplete("equipment")
    async def equipment_choices(self, interaction: discord.Interaction,
                                current: str) -> list[app_commands.Choice[str]]:
        values = distinct([q for e in self.bot.engine.kb.exercises for q in e.equipment])
        return [app_commands.Choice(name=v[:CHOICE_NAME_MAX], value=v[:CHOICE_NAME_MAX])
                for v in values if current.casefold() in v.casefold()][:MAX_CHOICES]


async def setup(bot) -> None:
    await bot.add_cog(Exercises(bot))
