import pytest
import yaml

from bot.cogs.moderation import (
    REFUSAL,
    may_moderate,
    rank_choices,
)
from bot.engine.knowledge import parse_text
from bot.engine.yamlsafe import Problem
from tests.cogs.conftest import (
    GUILD,
    MANAGE_MESSAGES,
    MOD_ROLE,
    autocomplete,
    click,
    deliver,
    slash,
    submit,
)
from tests.storage.conftest import ANA, numbered_draft

MOD = {"roles": [MOD_ROLE]}
CHANNEL_MESSAGE, DEFERRED, UPDATE_MESSAGE, AUTOCOMPLETE, MODAL = 4, 5, 7, 8, 9
EPHEMERAL = 64
CREATINE_FORM = {
    "Title": "Does creatine make you bloated?",
    "Questions people ask, one per line": "does creatine make you bloated\ncreatine water retention",
    "Answer": "A little extra water at first, inside the muscle. Review: [here](https://example.org/review).",
    "Verdict / evidence": "partly true / moderate",
    "Sources: DOIs or https links, one per line": "10.1186/s12970-021-00412-w",
}
CREATINE_ID = "does-creatine-make-you-bloated"


def answered(bot, guild, question):
    result = bot.engine.ask(question, scope=bot.scopes.scope_for(guild)).result
    return result.entry if result.status == "answer" else None


async def add_creatine(bot, fake, **member):
    [form] = await deliver(bot, fake, slash("add", **member))
    assert form.type == MODAL
    return await deliver(bot, fake, submit(form.data, CREATINE_FORM, **member), replies=2)


@pytest.mark.parametrize(("manage", "roles", "allowed"), [
    (False, [], False), (False, [5, 6], False), (True, [], True), (False, [5, MOD_ROLE], True),
])
def test_who_may_moderate(manage, roles, allowed):
    assert may_moderate(manage, roles, (MOD_ROLE,)) is allowed


COMMANDS = [("add", None), ("edit", {"id": "x"}), ("remove", {"id": "spot-reduction"}), ("restore", {"id": "x"}),
            ("hide", {"id": "spot-reduction"}), ("unhide", {"id": "x"}), ("list", None), ("show", {"id": "x"}),
            ("gaps", None), ("reload", None), ("export", None)]


@pytest.mark.parametrize(("command", "options"), COMMANDS)
async def test_members_without_the_permission_or_role_are_refused_every_command(faq_bot, fake_discord, command,
                                                                                 options):
    [sent] = await deliver(faq_bot, fake_discord, slash(command, options, roles=[78]))
    assert sent.type == CHANNEL_MESSAGE
    assert sent.data["content"] == REFUSAL and sent.data["flags"] == EPHEMERAL
    assert faq_bot.scopes.scope_for(GUILD) is None and not faq_bot.scopes.path(GUILD).exists()


async def test_the_group_is_guild_only_and_hidden_from_members_by_default(faq_bot, fake_discord):
    group = faq_bot.tree.get_command("faq")
    assert group.default_permissions.value == MANAGE_MESSAGES
    assert group.guild_only and not group.allowed_contexts.dm_channel
    [sent] = await deliver(faq_bot, fake_discord, slash("list", guild_id=None))
    assert sent.data["content"] == REFUSAL


async def test_moderators_by_permission_or_role_get_through(faq_bot, fake_discord):
    for member in ({"permissions": MANAGE_MESSAGES}, {"permissions": 8}, MOD):  # 8 = administrator
        [sent] = await deliver(faq_bot, fake_discord, slash("add", **member))
        assert sent.type == MODAL


async def test_autocomplete_offers_ids_to_moderators_only(faq_bot, fake_discord):
    [sent] = await deliver(faq_bot, fake_discord, autocomplete("remove", "spot", **MOD))
    assert sent.type == AUTOCOMPLETE
    assert sent.data["choices"][0] == {"name": "Can you burn fat from one spot? (spot-reduction)",
                                       "value": "spot-reduction"}
    [sent] = await deliver(faq_bot, fake_discord, autocomplete("remove", "spot"))
    assert sent.data["choices"] == []


async def test_buttons_refuse_non_moderators_too(faq_bot, fake_discord):
    [sent] = await deliver(faq_bot, fake_discord, click("mythbot:faq:remove:hide:spot-reduction"))
    assert sent.data["content"] == REFUSAL
    assert answered(faq_bot, GUILD, "does spot reduction work") == "spot-reduction"


async def test_add_through_the_form_answers_in_this_guild_only(faq_bot, fake_discord):
    deferred, done = await add_creatine(faq_bot, fake_discord, **MOD)
    assert deferred.type == DEFERRED and deferred.data["flags"] == EPHEMERAL
    assert done.data["content"] == f"Added `{CREATINE_ID}`. It answers in this server now."
    assert done.data["allowed_mentions"] == {"parse": []}
    [embed] = done.data["embeds"]
    assert embed["title"] == CREATINE_FORM["Title"]
    assert "here (https://example.org/review)" in embed["description"]  # the link stays visible
    assert "https://doi.org/10.1186/s12970-021-00412-w" in str(embed["fields"])
    assert answered(faq_bot, GUILD, "does creatine cause bloating") == CREATINE_ID
    assert answered(faq_bot, 222, "does creatine cause bloating") is None
    [record] = faq_bot.records.audit_log(GUILD)
    assert (record.actor_id, record.action, record.entry_id) == (42, "add", CREATINE_ID)
    assert '"verdict": "partly true"' in record.detail


async def test_a_refused_form_names_the_field_and_offers_to_reopen_it(faq_bot, fake_discord):
    [form] = await deliver(faq_bot, fake_discord, slash("add", **MOD))
    bad = {**CREATINE_FORM, "Verdict / evidence": "myth / very strong"}
    _, refused = await deliver(faq_bot, fake_discord, submit(form.data, bad, **MOD), replies=2)
    assert "Verdict / evidence: 'very strong' is not an evidence grade" in refused.data["content"]
    retry = refused.data["components"][0]["components"][0]
    assert retry["label"] == "Fix and resubmit"
    assert not faq_bot.scopes.path(GUILD).exists()
    [reopened] = await deliver(faq_bot, fake_discord, click(retry["custom_id"], refused.data["components"],
                                                            message_id=refused.message_id, **MOD))
    assert reopened.type == MODAL
    typed = {row["components"][0]["label"]: row["components"][0].get("value") for row in reopened.data["components"]}
    assert typed == bad  # nothing the moderator typed is lost
    _, added = await deliver(faq_bot, fake_discord, submit(reopened.data, {"Verdict / evidence": "myth / strong"},
                                                           **MOD), replies=2)
    assert added.data["content"].startswith("Added")


async def test_edit_opens_the_form_prefilled_and_saves(faq_bot, fake_discord):
    await add_creatine(faq_bot, fake_discord, **MOD)
    [form] = await deliver(faq_bot, fake_discord, slash("edit", {"id": CREATINE_ID}, permissions=MANAGE_MESSAGES,
                                                       user_id=43))
    assert form.type == MODAL and form.data["title"] == "Edit FAQ entry"
    prefilled = {row["components"][0]["label"]: row["components"][0].get("value") for row in form.data["components"]}
    assert prefilled["Verdict / evidence"] == "partly true / moderate"
    assert prefilled["Sources: DOIs or https links, one per line"] == "https://doi.org/10.1186/s12970-021-00412-w"
    _, saved = await deliver(faq_bot, fake_discord, submit(form.data, {"Verdict / evidence": "true / strong"},
                                                           permissions=MANAGE_MESSAGES, user_id=43), replies=2)
    assert saved.data["content"] == f"Saved `{CREATINE_ID}`."
    entry = faq_bot.scopes.entry(GUILD, CREATINE_ID)
    assert entry.verdict == "true" and entry.questions == ["does creatine make you bloated", "creatine water retention"]
    assert entry.stewardship.updated_by == "ana (43)"
    [sent] = await deliver(faq_bot, fake_discord, slash("edit", {"id": "spot-reduction"}, **MOD))
    assert "curated entry: read-only from Discord" in sent.data["content"]


async def test_remove_asks_first_then_retires_and_restore_brings_back(faq_bot, fake_discord):
    await add_creatine(faq_bot, fake_discord, **MOD)
    [prompt] = await deliver(faq_bot, fake_discord, slash("remove", {"id": CREATINE_ID}, **MOD))
    buttons = prompt.data["components"][0]["components"]
    assert [b["custom_id"] for b in buttons] == [f"mythbot:faq:remove:retire:{CREATINE_ID}", "mythbot:faq:cancel"]
    assert answered(faq_bot, GUILD, "does creatine cause bloating") == CREATINE_ID  # not before the click
    [done] = await deliver(faq_bot, fake_discord, click(buttons[0]["custom_id"], **MOD))
    assert done.type == UPDATE_MESSAGE and done.data["content"].startswith(f"Retired `{CREATINE_ID}`")
    assert done.data["components"] == []
    assert answered(faq_bot, GUILD, "does creatine cause bloating") is None
    _, restored = await deliver(faq_bot, fake_discord, slash("restore", {"id": CREATINE_ID}, **MOD), replies=2)
    assert restored.data["content"] == f"Restored `{CREATINE_ID}`: it answers here again."
    assert answered(faq_bot, GUILD, "does creatine cause bloating") == CREATINE_ID
    assert [r.action for r in faq_bot.records.audit_log(GUILD)] == ["restore", "retire", "add"]


async def test_remove_on_a_curated_entry_hides_it_here_after_confirming(faq_bot, fake_discord):
    [prompt] = await deliver(faq_bot, fake_discord, slash("remove", {"id": "spot-reduction"}, **MOD))
    assert "is curated" in prompt.data["content"]
    [cancel] = await deliver(faq_bot, fake_discord, click("mythbot:faq:cancel", **MOD))
    assert cancel.data["content"].startswith("Cancelled")
    [done] = await deliver(faq_bot, fake_discord, click("mythbot:faq:remove:hide:spot-reduction", **MOD))
    assert done.data["content"].startswith("Hid the curated entry `spot-reduction`")
    assert answered(faq_bot, GUILD, "does spot reduction work") is None
    assert answered(faq_bot, 222, "does spot reduction work") == "spot-reduction"
    _, shown = await deliver(faq_bot, fake_discord, slash("unhide", {"id": "spot-reduction"}, **MOD), replies=2)
    assert "answers in this server again" in shown.data["content"]
    _, hidden = await deliver(faq_bot, fake_discord, slash("hide", {"id": "spot-reduction"}, **MOD), replies=2)
    assert hidden.data["content"].startswith("Hid")
    [listing] = await deliver(faq_bot, fake_discord, slash("list", {"which": "hidden"}, **MOD))
    assert "`spot-reduction`" in listing.data["embeds"][0]["description"]


async def test_list_pages_with_buttons_that_survive_restarts(faq_bot, fake_discord):
    for n in range(12):
        await faq_bot.scopes.add(GUILD, numbered_draft(n), ANA)
    [first] = await deliver(faq_bot, fake_discord, slash("list", {"which": "server"}, **MOD))
    embed = first.data["embeds"][0]
    assert embed["footer"]["text"] == "Page 1 of 2 · 12 entries"
    prev, nxt = first.data["components"][0]["components"]
    assert prev["disabled"] and nxt["custom_id"] == "mythbot:faq:list:server:1:next"
    [second] = await deliver(faq_bot, fake_discord, click(nxt["custom_id"], **MOD))
    assert second.type == UPDATE_MESSAGE
    assert second.data["embeds"][0]["footer"]["text"] == "Page 2 of 2 · 12 entries"
    assert second.data["embeds"][0]["description"].count("\n") == 1  # two rows left


async def test_show_has_the_card_and_who_changed_it(faq_bot, fake_discord):
    await add_creatine(faq_bot, fake_discord, **MOD)
    [shown] = await deliver(faq_bot, fake_discord, slash("show", {"id": CREATINE_ID}, **MOD))
    footer = shown.data["embeds"][0]["footer"]["text"]
    assert footer.startswith(f"{CREATINE_ID} · This server's entry · added by ana (42) on ")
    [curated] = await deliver(faq_bot, fake_discord, slash("show", {"id": "spot-reduction"}, **MOD))
    assert "Curated (read-only from Discord)" in curated.data["embeds"][0]["footer"]["text"]


async def test_gaps_groups_what_went_unanswered(faq_bot, fake_discord):
    for question in ("is creatine safe?", "Is creatine safe for women", "is creatine safe",
                     "best shoes for squats", "what shoes for squatting", "does spot reduction work"):
        faq_bot.records.record_unanswered(GUILD, 10, question)
    faq_bot.records.record_unanswered(222, 10, "elsewhere only")
    _, report = await deliver(faq_bot, fake_discord, slash("gaps", **MOD), replies=2)
    text = report.data["embeds"][0]["description"]
    assert "**3×** is creatine safe" in text and "**2×**" in text
    assert "spot reduction" not in text  # answered now
    assert "elsewhere" not in text


async def test_reload_keeps_the_last_good_knowledge_and_says_what_is_wrong(faq_bot, fake_discord):
    faq_bot.reload_results = [Problem("knowledge/myths/body.yaml", 12, "myth 'x': missing required field")]
    _, sent = await deliver(faq_bot, fake_discord, slash("reload", **MOD), replies=2)
    assert "keeps answering with what it had loaded" in sent.data["content"]
    assert "`knowledge/myths/body.yaml:12` myth 'x': missing required field" in sent.data["content"]
    faq_bot.reload_results = []
    _, sent = await deliver(faq_bot, fake_discord, slash("reload", **MOD), replies=2)
    assert sent.data["content"].startswith("Reloaded the curated knowledge: 6 entries.")


async def test_export_attaches_valid_curated_yaml(faq_bot, fake_discord):
    [empty] = await deliver(faq_bot, fake_discord, slash("export", **MOD))
    assert "no entries of its own" in empty.data["content"]
    await add_creatine(faq_bot, fake_discord, **MOD)
    [sent] = await deliver(faq_bot, fake_discord, slash("export", **MOD))
    [attachment] = sent.files
    assert attachment.filename == f"faq-{GUILD}.yaml"
    text = attachment.fp.getvalue().decode()
    assert parse_text(text, "export.yaml").problems == ()
    assert yaml.safe_load(text)["myths"][0]["id"] == CREATINE_ID


def test_choices_rank_prefixes_first_and_fit_discord():
    options = [("spot-reduction", "Can you burn fat from one spot?"), ("squats-hip-dips", "Will squats fix hip dips?"),
               ("x" * 64, "y" * 200)]
    assert [v for _, v in rank_choices(options, "squ")] == ["squats-hip-dips"]
    assert [v for _, v in rank_choices(options, "fat spot")] == ["spot-reduction"]
    assert len(rank_choices(options, "")) == 3
    assert all(len(name) <= 100 for name, _ in rank_choices(options, ""))

