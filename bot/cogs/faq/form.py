"""The form of `/faq add` and `/faq edit`: a Discord modal with the five fields of `bot.faq.drafts`.

An edit form remembers the revision of the entry it opened (`revision_of`), in the modal and in its
custom_id. Saving checks that revision against what is stored, so when two moderators edit one entry
the second is told it changed, is shown the version now stored, and keeps what they typed
(**Fix and resubmit** reopens the form with it, carrying the revision they were shown).

A form submitted after a restart, or after its timeout, has no live modal: `save_unowned` saves it from
what Discord sends back and from its custom_id, through the same checks.
"""

import re
import secrets
from collections.abc import Mapping
from typing import Any

import discord

from bot.cogs._errors import GuardedModal, GuardedView
from bot.cogs.faq.access import actor_of, guild_of, host_of, refuse_unless_moderator
from bot.cogs.faq.views import PREFIX, reply
from bot.faq.drafts import FORM_FIELDS, Draft

FORM_TIMEOUT = 1800
_ENTRY = r"[a-z0-9-]{1,64}"
# New entry: `form:<nonce>`. Edit: `e:<nonce>:<revision>:<entry>`, at most 14 + 4 + 1 + 16 + 1 + 64 = 100
# characters, Discord's limit. The nonce keeps two open forms apart. `form:<nonce>:<entry>` is how edit
# forms opened before revisions were kept still arrive (saved without the check).
FORM_ID = re.compile(rf"{PREFIX}:(?:form:[0-9a-f]{{8}}(?::(?P<old_entry>{_ENTRY}))?"
                     rf"|e:[0-9a-f]{{4}}:(?P<revision>[0-9a-f]{{16}}):(?P<entry>{_ENTRY}))")


def form_id(entry_id: str | None, revision: str | None = None) -> str:
    if entry_id is None or revision is None:
        return f"{PREFIX}:form:{secrets.token_hex(4)}" + (f":{entry_id}" if entry_id else "")
    return f"{PREFIX}:e:{secrets.token_hex(2)}:{revision}:{entry_id}"


def form_target(custom_id: str) -> tuple[str | None, str | None] | None:
    """(entry id, revision) a form's custom_id names, (None, None) for a new entry; None if not our form."""
    found = FORM_ID.fullmatch(custom_id)
    if found is None:
        return None
    return found["entry"] or found["old_entry"], found["revision"]


def submitted_values(components: object) -> dict[str, str]:
    """custom_id -> value of the text inputs in a modal submission (in action rows or labels), read from the
    payload as Discord sent it."""
    values: dict[str, str] = {}
    for component in components if isinstance(components, list) else ():
        if not isinstance(component, dict):
            continue
        children = component.get("components") or ([component["component"]] if component.get("component") else [])
        custom_id, value = component.get("custom_id"), component.get("value")
        if children:
            values.update(submitted_values(children))
        elif isinstance(custom_id, str) and isinstance(value, str):
            values[custom_id] = value
    return values


async def save(interaction: discord.Interaction[Any], draft: Draft, entry_id: str | None, revision: str | None) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    service = host_of(interaction).service
    outcome = await service.save(guild_of(interaction), actor_of(interaction), draft, entry_id=entry_id,
                                 revision=revision)
    retry = None if outcome.ok else FixAndResubmit(draft, entry_id, outcome.revision or revision)
    await reply(interaction, outcome, view=retry)


async def save_unowned(interaction: discord.Interaction[Any], entry_id: str | None, revision: str | None) -> None:
    """A form submitted after a restart or its timeout: the same checks and save as a live one (and, as it
    runs in a listener, the same error policy, through `MythBot.on_error`)."""
    if not await refuse_unless_moderator(interaction):
        return
    data: Mapping[str, object] = interaction.data or {}
    values = submitted_values(data.get("components"))
    draft = Draft(**{field.key: values.get(field.key, "") for field in FORM_FIELDS})
    await save(interaction, draft, entry_id, revision)


class FaqForm(GuardedModal):
    """The five-field form (a Discord modal holds at most five inputs)."""

    def __init__(self, draft: Draft, entry_id: str | None = None, revision: str | None = None) -> None:
        super().__init__(title="Edit FAQ entry" if entry_id else "New FAQ entry", timeout=FORM_TIMEOUT,
                         custom_id=form_id(entry_id, revision))
        self.entry_id, self.revision = entry_id, revision
        self.inputs: dict[str, discord.ui.TextInput[FaqForm]] = {}
        for field in FORM_FIELDS:
            text_input: discord.ui.TextInput[FaqForm] = discord.ui.TextInput(
                label=field.label, custom_id=field.key,  # title, questions, answer, verdict, sources
                style=discord.TextStyle.paragraph if field.paragraph else discord.TextStyle.short,
                max_length=field.max_length, required=field.required, placeholder=field.placeholder[:100],
                default=getattr(draft, field.key) or None,
            )
            self.inputs[field.key] = text_input
            self.add_item(text_input)

    def draft(self) -> Draft:
        return Draft(**{key: text_input.value for key, text_input in self.inputs.items()})

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await save(interaction, self.draft(), self.entry_id, self.revision)


class FixAndResubmit(GuardedView):
    """After a refused or conflicting form: reopen it with everything the moderator typed, so nothing is lost."""

    def __init__(self, draft: Draft, entry_id: str | None, revision: str | None) -> None:
        super().__init__(timeout=FORM_TIMEOUT)
        self.draft, self.entry_id, self.revision = draft, entry_id, revision

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return await refuse_unless_moderator(interaction)

    # The text lives in this view only; after a restart the bot says the button expired (discord_app).
    @discord.ui.button(label="Fix and resubmit", style=discord.ButtonStyle.primary, custom_id=f"{PREFIX}:fix")
    async def reopen(self, interaction: discord.Interaction[Any], button: discord.ui.Button["FixAndResubmit"]) -> None:
        await interaction.response.send_modal(FaqForm(self.draft, self.entry_id, self.revision))
