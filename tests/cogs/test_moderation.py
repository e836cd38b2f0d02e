import pytest
import yaml

from bot.cogs.faq.access import REFUSAL, may_moderate
from bot.engine.knowledge import parse_text
from bot.faq.service import rank_choices
from bot.storage.operations import add_entry_op
from tests.cogs.conftest import (
    AUTOCOMPLETE,
    CHANNEL_MESSAGE,
    EPHEMERAL,
    MODAL,
    UPDATE_MESSAGE,
    answered_in_full,
    form_values,
    slash,
)
from tests.standin.world import Perm
from tests.storage.conftest import ANA, numbered_entry

MANAGE_MESSAGES = 1 << 13
CREATINE_FORM = {
    "title": "Does creatine make you bloated?",
    "questions": "does creatine make you bloated\ncreatine water retention",
    "answer": "A little extra water at first, inside the muscle. Review: [here](https://example.org/review).",
    "verdict": "partly true / moderate",
    "sources": "10.1186/s12970-021-00412-w",
}
CREATINE_ID = "does-creatine-make-you-bloated"
OTHER_GUILD = 222


def guild_file(bot, guild_id):
    """Where the default backend keeps a server's entries: nothing may be written for a refused change."""
    return bot.settings.data_dir / "guilds" / f"{guild_id}.yaml"


def answered(bot, guild_id, question):
    result = bot.engine.ask(question, scope=bot.faq.scope_for(guild_id)).result
    return result.entry if result.status == "answer" else None


async def add_creatine(fake, user):
    """Open the form with /faq add and submit it; returns the submission interaction."""
    form = await (await slash(fake, "add", user=user)).response()
    assert form.type == MODAL
    return await fake.inject_modal_submit(form.custom_id, CREATINE_FORM, user=user)


@pytest.mark.parametrize(("manage", "roles", "allowed"), [
    (False, [], False), (False, [5, 6], False), (True, [], True), (False, [5, 77], True),
])
def test_who_may_moderate(manage, roles, allowed):
    assert may_moderate(manage, roles, (77,)) is allowed


COMMANDS = [("add", None), ("edit", {"id": "x"}), ("remove", {"id": "spot-reduction"}), ("restore", {"id": "x"}),
            ("hide", {"id": "spot-reduction"}), ("unhide", {"id": "x"}), ("list", None), ("show", {"id": "x"}),
            ("gaps", None), ("stats", None), ("suggestions", None), ("untrain", {"id": "x"}), ("reload", None),
            ("export", None)]


@pytest.mark.parametrize(("command", "options"), COMMANDS)
async def test_members_without_the_permission_or_role_are_refused_every_command(fake_discord, faq_bot, guild_id,
                                                                                 regular, command, options):
    sent = await (await slash(fake_discord, command, options, user=regular)).response()
    assert sent.type == CHANNEL_MESSAGE
    assert sent.content == REFUSAL and sent.flags == EPHEMERAL
    assert faq_bot.faq.scope_for(guild_id) is None and not guild_file(faq_bot, guild_id).exists()


async def test_the_group_is_guild_only_and_hidden_from_members_by_default(fake_discord, faq_bot, role_moderator):
    group = faq_bot.tree.get_command("faq")
    assert group.default_permissions.value == MANAGE_MESSAGES
    assert group.guild_only and not group.allowed_contexts.dm_channel
    in_dm = await slash(fake_discord, "list", user=role_moderator, channel=fake_discord.dm_channel(role_moderator))
    assert (await in_dm.response()).content == REFUSAL


async def test_moderators_by_permission_or_role_get_through(fake_discord, faq_bot, moderator, admin,
                                                           role_moderator):
    for member in (moderator, admin, role_moderator):
        sent = await (await slash(fake_discord, "add", user=member)).response()
        assert sent.type == MODAL


async def test_autocomplete_offers_ids_to_moderators_only(fake_discord, faq_bot, role_moderator, regular):
    typed = await fake_discord.inject_autocomplete("faq remove", {"id": "spot"}, "id", user=role_moderator)
    sent = await typed.response()
    assert sent.type == AUTOCOMPLETE
    assert sent.choices[0] == {"name": "Can you burn fat from one spot? (spot-reduction)", "value": "spot-reduction"}
    typed = await fake_discord.inject_autocomplete("faq remove", {"id": "spot"}, "id", user=regular)
    assert (await typed.response()).choices == []


async def test_autocomplete_choices_fit_discord_whatever_the_title(fake_discord, faq_bot, guild_id, role_moderator):
    long = numbered_entry(1).model_copy(update={"title": "Spot " + "very " * 45 + "long title"})
    await faq_bot.faq.apply(guild_id, add_entry_op(long, ANA))
    typed = await fake_discord.inject_autocomplete("faq remove", {"id": "spot"}, "id", user=role_moderator)
    choices = (await typed.response()).choices  # the stand-in refuses names over 100 characters, as Discord does
    assert len(choices) == 2 and all(len(choice["name"]) <= 100 for choice in choices)


async def test_buttons_refuse_non_moderators_too(fake_discord, faq_bot, guild_id, role_moderator, regular):
    removing = await slash(fake_discord, "remove", {"id": "spot-reduction"}, user=role_moderator)
    await removing.response()
    click = await fake_discord.inject_component("mythbot:faq:remove:hide:spot-reduction",
                                                removing.original_message_id, regular)
    assert (await click.response()).content == REFUSAL
    assert answered(faq_bot, guild_id, "does spot reduction work") == "spot-reduction"


async def test_add_through_the_form_answers_in_this_guild_only(fake_discord, faq_bot, guild_id, role_moderator):
    submitted = await add_creatine(fake_discord, role_moderator)
    deferred, done = await answered_in_full(submitted)
    assert deferred.flags == EPHEMERAL
    assert done["content"] == f"Added `{CREATINE_ID}`. It answers in this server now."
    followup = fake_discord.calls_to("POST", f"/webhooks/{{application_id}}/{submitted.token}")[0]
    assert followup.json["allowed_mentions"] == {"parse": []}
    [embed] = done["embeds"]
    assert embed["title"] == CREATINE_FORM["title"]
    assert "here (https://example.org/review)" in embed["description"]  # the link stays visible
    assert "https://doi.org/10.1186/s12970-021-00412-w" in str(embed["fields"])
    assert answered(faq_bot, guild_id, "does creatine cause bloating") == CREATINE_ID
    assert answered(faq_bot, OTHER_GUILD, "does creatine cause bloating") is None
    await faq_bot.workers.drain()  # the audit is written in the background
    [record] = await faq_bot.records.audit_log(guild_id)
    assert (record.actor_id, record.action, record.entry_id) == (role_moderator.id, "add", CREATINE_ID)
    assert '"verdict": "partly true"' in record.detail


async def test_a_refused_form_names_the_field_and_offers_to_reopen_it(fake_discord, faq_bot, guild_id,
                                                                     role_moderator):
    form = await (await slash(fake_discord, "add", user=role_moderator)).response()
    bad = {**CREATINE_FORM, "verdict": "myth / very strong"}
    submitted = await fake_discord.inject_modal_submit(form.custom_id, bad, user=role_moderator)
    _, refused = await answered_in_full(submitted)
    assert "Verdict / evidence: 'very strong' is not an evidence grade" in refused["content"]
    retry = refused["components"][0]["components"][0]
    assert retry["label"] == "Fix and resubmit"
    assert not guild_file(faq_bot, guild_id).exists()
    click = await fake_discord.inject_component(retry["custom_id"], int(refused["id"]), role_moderator)
    reopened = await click.response()
    assert reopened.type == MODAL
    assert form_values(reopened.data) == bad  # nothing the moderator typed is lost
    resubmitted = await fake_discord.inject_modal_submit(reopened.custom_id, {"verdict": "myth / strong"},
                                                         user=role_moderator)
    _, added = await answered_in_full(resubmitted)
    assert added["content"].startswith("Added")


async def test_edit_opens_the_form_prefilled_and_saves(fake_discord, faq_bot, guild_id, role_moderator, moderator):
    await answered_in_full(await add_creatine(fake_discord, role_moderator))
    form = await (await slash(fake_discord, "edit", {"id": CREATINE_ID}, user=moderator)).response()
    assert form.type == MODAL and form.data["title"] == "Edit FAQ entry"
    prefilled = form_values(form.data)
    assert prefilled["verdict"] == "partly true / moderate"
    assert prefilled["sources"] == "https://doi.org/10.1186/s12970-021-00412-w"
    submitted = await fake_discord.inject_modal_submit(form.custom_id, {"verdict": "true / strong"}, user=moderator)
    _, saved = await answered_in_full(submitted)
    assert saved["content"] == f"Saved `{CREATINE_ID}`."
    entry = faq_bot.faq.state(guild_id).entries[CREATINE_ID]
    assert entry.verdict == "true" and entry.questions == ["does creatine make you bloated", "creatine water retention"]
    assert entry.stewardship.updated_by == f"bo ({moderator.id})"
    curated = await (await slash(fake_discord, "edit", {"id": "spot-reduction"}, user=role_moderator)).response()
    assert curated.content.startswith("Not possible: 'spot-reduction' is a curated entry: it is read-only from Discord")


async def test_remove_asks_first_then_retires_and_restore_brings_back(fake_discord, faq_bot, guild_id,
                                                                      role_moderator):
    await answered_in_full(await add_creatine(fake_discord, role_moderator))
    removing = await slash(fake_discord, "remove", {"id": CREATINE_ID}, user=role_moderator)
    prompt = await removing.response()
    buttons = prompt.components[0]["components"]
    assert [b["custom_id"] for b in buttons] == [f"mythbot:faq:remove:retire:{CREATINE_ID}", "mythbot:faq:cancel"]
    assert answered(faq_bot, guild_id, "does creatine cause bloating") == CREATINE_ID  # not before the click
    click = await fake_discord.inject_component(buttons[0]["custom_id"], removing.original_message_id,
                                                role_moderator)
    done = await click.response()
    assert done.type == UPDATE_MESSAGE and done.content.startswith(f"Retired `{CREATINE_ID}`")
    assert done.components == []
    assert answered(faq_bot, guild_id, "does creatine cause bloating") is None
    _, restored = await answered_in_full(await slash(fake_discord, "restore", {"id": CREATINE_ID},
                                                     user=role_moderator))
    assert restored["content"] == f"Restored `{CREATINE_ID}`: it answers here again."
    assert answered(faq_bot, guild_id, "does creatine cause bloating") == CREATINE_ID
    await faq_bot.workers.drain()
    assert [r.action for r in await faq_bot.records.audit_log(guild_id)] == ["restore", "retire", "add"]


async def test_remove_on_a_curated_entry_hides_it_here_after_confirming(fake_discord, faq_bot, guild_id,
                                                                        role_moderator):
    mod = role_moderator
    removing = await slash(fake_discord, "remove", {"id": "spot-reduction"}, user=mod)
    assert "is curated" in (await removing.response()).content
    cancel = await fake_discord.inject_component("mythbot:faq:cancel", removing.original_message_id, mod)
    assert (await cancel.response()).content.startswith("Cancelled")
    removing = await slash(fake_discord, "remove", {"id": "spot-reduction"}, user=mod)
    await removing.response()
    confirm = await fake_discord.inject_component("mythbot:faq:remove:hide:spot-reduction",
                                                  removing.original_message_id, mod)
    assert (await confirm.response()).content.startswith("Hid the curated entry `spot-reduction`")
    assert answered(faq_bot, guild_id, "does spot reduction work") is None
    assert answered(faq_bot, OTHER_GUILD, "does spot reduction work") == "spot-reduction"
    _, shown = await answered_in_full(await slash(fake_discord, "unhide", {"id": "spot-reduction"}, user=mod))
    assert "answers in this server again" in shown["content"]
    _, hidden = await answered_in_full(await slash(fake_discord, "hide", {"id": "spot-reduction"}, user=mod))
    assert hidden["content"].startswith("Hid")
    listing = await (await slash(fake_discord, "list", {"which": "hidden"}, user=mod)).response()
    assert "`spot-reduction`" in listing.embeds[0]["description"]


async def test_list_pages_with_buttons_that_survive_restarts(fake_discord, faq_bot, guild_id, role_moderator):
    for n in range(12):
        await faq_bot.faq.apply(guild_id, add_entry_op(numbered_entry(n), ANA))
    listing = await slash(fake_discord, "list", {"which": "server"}, user=role_moderator)
    first = await listing.response()
    assert first.embeds[0]["footer"]["text"] == "Page 1 of 2 · 12 entries"
    prev, nxt = first.components[0]["components"]
    assert prev["disabled"] and nxt["custom_id"] == "mythbot:faq:list:server:1:next"
    click = await fake_discord.inject_component(nxt["custom_id"], listing.original_message_id, role_moderator)
    second = await click.response()
    assert second.type == UPDATE_MESSAGE
    assert second.embeds[0]["footer"]["text"] == "Page 2 of 2 · 12 entries"
    assert second.embeds[0]["description"].count("\n") == 1  # two rows left


async def test_show_has_the_card_and_who_changed_it(fake_discord, faq_bot, role_moderator):
    await answered_in_full(await add_creatine(fake_discord, role_moderator))
    _, shown = await answered_in_full(await slash(fake_discord, "show", {"id": CREATINE_ID}, user=role_moderator))
    footer = shown["embeds"][0]["footer"]["text"]
    assert footer.startswith(f"{CREATINE_ID} · This server's entry · added by ana ({role_moderator.id}) on ")
    _, curated = await answered_in_full(await slash(fake_discord, "show", {"id": "spot-reduction"},
                                                    user=role_moderator))
    assert "Curated (read-only from Discord)" in curated["embeds"][0]["footer"]["text"]


async def test_show_has_a_retired_entry_with_its_history(fake_discord, faq_bot, guild_id, role_moderator,
                                                         moderator):
    await answered_in_full(await add_creatine(fake_discord, role_moderator))
    form = await (await slash(fake_discord, "edit", {"id": CREATINE_ID}, user=moderator)).response()
    await answered_in_full(await fake_discord.inject_modal_submit(form.custom_id, {"verdict": "true / strong"},
                                                                  user=moderator))
    removing = await slash(fake_discord, "remove", {"id": CREATINE_ID}, user=role_moderator)
    await removing.response()
    confirm = f"mythbot:faq:remove:retire:{CREATINE_ID}"
    await (await fake_discord.inject_component(confirm, removing.original_message_id, role_moderator)).response()
    assert answered(faq_bot, guild_id, "does creatine cause bloating") is None  # gone for members
    _, shown = await answered_in_full(await slash(fake_discord, "show", {"id": CREATINE_ID}, user=moderator))
    [card] = shown["embeds"]
    assert card["title"] == CREATINE_FORM["title"]
    assert card["footer"]["text"].startswith(f"{CREATINE_ID} · This server's entry · retired · added by ana")
    history = next(field["value"] for field in card["fields"] if field["name"].startswith("History"))
    lines = history.splitlines()
    assert len(lines) == 3 and lines[0].endswith("(retired)")  # newest first: retired, edited, added
    assert f"by bo ({moderator.id})" in lines[1] and f"by ana ({role_moderator.id})" in lines[2]


async def test_gaps_groups_what_went_unanswered(fake_discord, faq_bot, guild_id, role_moderator):
    for question in ("is creatine safe?", "Is creatine safe for women", "is creatine safe",
                     "best shoes for squats", "what shoes for squatting", "does spot reduction work"):
        await faq_bot.records.record_unanswered(guild_id, 10, question)
    await faq_bot.records.record_unanswered(OTHER_GUILD, 10, "elsewhere only")
    _, report = await answered_in_full(await slash(fake_discord, "gaps", user=role_moderator))
    text = report["embeds"][0]["description"]
    assert "**3×** is creatine safe" in text and "**2×**" in text
    assert "spot reduction" not in text  # answered now
    assert "elsewhere" not in text


async def test_reload_keeps_the_last_good_knowledge_and_says_what_is_wrong(fake_discord, faq_bot, kb_copy,
                                                                          role_moderator):
    broken = kb_copy / "broken.yaml"
    broken.write_text("myths:\n  - id: x\n")
    _, said = await answered_in_full(await slash(fake_discord, "reload", user=role_moderator))
    assert "keeps answering with what it had loaded" in said["content"]
    assert "`kb/broken.yaml:2` myth 'x', field 'answer': missing required field" in said["content"]
    broken.unlink()
    _, said = await answered_in_full(await slash(fake_discord, "reload", user=role_moderator))
    assert said["content"].startswith("Reloaded the curated knowledge: 6 entries.")


async def test_export_attaches_valid_curated_yaml(fake_discord, faq_bot, guild_id, role_moderator):
    empty = await (await slash(fake_discord, "export", user=role_moderator)).response()
    assert "no entries of its own" in empty.content
    await answered_in_full(await add_creatine(fake_discord, role_moderator))
    sent = await (await slash(fake_discord, "export", user=role_moderator)).response()
    [attachment] = sent.files
    assert attachment.filename == f"faq-{guild_id}.yaml"
    text = attachment.data.decode()
    assert parse_text(text, "export.yaml").problems == ()
    assert yaml.safe_load(text)["myths"][0]["id"] == CREATINE_ID


def test_choices_rank_prefixes_first():
    options = [("spot-reduction", "Can you burn fat from one spot?"), ("squats-hip-dips", "Will squats fix hip dips?"),
               ("x" * 64, "y" * 200)]
    assert [entry_id for entry_id, _ in rank_choices(options, "squ")] == ["squats-hip-dips"]
    assert [entry_id for entry_id, _ in rank_choices(options, "fat spot")] == ["spot-reduction"]
    assert len(rank_choices(options, "")) == 3


async def test_manage_messages_in_one_channel_does_not_grant_server_wide_faq_powers(fake_discord, faq_bot, guild_id,
                                                                                   regular, role_moderator):
    myths = fake_discord.guild.channel("myths")
    fake_discord.overwrite(myths, regular, allow=Perm.MANAGE_MESSAGES)  # a helper trusted in #myths only
    hiding = await slash(fake_discord, "hide", {"id": "spot-reduction"}, user=regular, channel=myths)
    sent = await hiding.response()
    assert int(hiding.payload["member"]["permissions"]) & Perm.MANAGE_MESSAGES  # resolved in #myths, as on Discord
    assert sent.content == REFUSAL
    assert answered(faq_bot, guild_id, "does spot reduction work") == "spot-reduction"
    typed = await fake_discord.inject_autocomplete("faq remove", {"id": "spot"}, "id", user=regular, channel=myths)
    assert (await typed.response()).choices == []
    fake_discord.overwrite(myths, role_moderator, deny=Perm.MANAGE_MESSAGES)  # the moderator role still counts
    form = await (await slash(fake_discord, "add", user=role_moderator, channel=myths)).response()
    assert form.type == MODAL
