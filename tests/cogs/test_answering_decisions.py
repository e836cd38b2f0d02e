import discord

from bot.cogs._ui import (
    CUSTOM_ID_MAX,
    EMBED_TOTAL_MAX,
    NotWhatIAskedButton,
    answer_embed,
    answer_view,
    exercise_embed,
)
from bot.cogs.answering import classify, entry_of_bot_message
from bot.engine.render import EntryView

ME = 42


def decide(content, **overrides):
    facts = {"my_id": ME, "author_is_bot": False, "in_dm": False, "mentions_me": False, "replying_to_me": False,
             "channel_id": 1, "listen_channels": (7,)}
    facts.update(overrides)
    return classify(content, **facts)


def test_mention_dm_reply_and_passive_triggers():
    assert decide(f"<@{ME}> do squats fix hip dips?", mentions_me=True).question == "do squats fix hip dips?"
    assert decide("protein?", in_dm=True).kind == "dm"
    assert decide("sources?", replying_to_me=True).kind == "reply"
    assert decide("how much protein should i eat?", channel_id=7).kind == "passive"


def test_silence_for_bots_chatter_unlisted_channels_and_mass_pings():
    assert decide("how much protein?", author_is_bot=True, in_dm=True) is None
    assert decide("how much protein should i eat?", channel_id=1) is None
    assert decide("lol same", channel_id=7) is None
    assert decide("@everyone", mentions_me=True) is None
    assert decide("@here <@&5>", channel_id=7) is None


def long_view(kind="myth"):
    return EntryView(id="x", kind=kind, title="T" * 400, body="b" * 5000, evidence="limited",
                     evidence_label="Limited", verdict="myth", verdict_label="Myth", more="m" * 5000,
                     sources=tuple(__import__("bot.engine.render", fromlist=["SourceView"]).SourceView(
                         f"s{i}", "c" * 300, "https://doi.org/10.1/x") for i in range(30)),
                     related=tuple((f"r{i}", "R" * 100) for i in range(30)),
                     exercise={"muscles": ("glute medius",), "steps": tuple("s" * 400 for _ in range(12))})


def test_embeds_respect_discord_limits():
    for embed in (answer_embed(long_view()), exercise_embed(long_view("exercise"))):
        assert len(embed) <= EMBED_TOTAL_MAX and len(embed.title) <= 256
        assert len(embed.description) <= 4096 and all(len(f.value) <= 1024 for f in embed.fields)


def test_custom_ids_fit_and_carry_the_entry():
    view = answer_view(long_view(), ["a" * 60, "b" * 60, "c" * 10])
    assert all(len(item.custom_id) <= CUSTOM_ID_MAX for item in view.children)
    assert NotWhatIAskedButton(["a" * 60, "b" * 60, "c" * 10]).alternative_ids == ["a" * 60, "c" * 10][:1]


def test_entry_is_read_back_from_an_answer_message():
    class Row:
        children = (discord.ui.Button(custom_id="mythbot:alt:a,b"), discord.ui.Button(custom_id="mythbot:src:x-y"))

    class Message:
        components = (Row(),)

    assert entry_of_bot_message(Message()) == "x-y"
    assert entry_of_bot_message(None) is None
