"""L7, members: buttons whose view did not survive a restart (or timed out) answer that they expired,
instead of "This interaction failed"."""

from bot.discord_app import create_bot
from bot.settings import load_settings

EPHEMERAL = 64
CHANNEL_MESSAGE, UPDATE_MESSAGE = 4, 7


def buttons(message):
    return [c for row in message["components"] for c in row["components"]]


async def test_the_exercises_pager_after_a_restart_says_to_run_it_again(fake_discord, start_bot, tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")  # the shipped knowledge: more than a page of exercises
    before = await start_bot(create_bot(settings))
    alice = fake_discord.make_member("alice")
    listing = await fake_discord.inject_slash_command("exercises", {}, user=alice)
    first = await listing.response()
    previous, following = buttons(first.data)
    turned = await (await fake_discord.inject_component(following["custom_id"], listing.original_message_id,
                                                        alice)).response()
    assert turned.type == UPDATE_MESSAGE  # a live pager turns its page, and only that answers
    await before.close()
    await start_bot(create_bot(settings))
    click = await fake_discord.inject_component(previous["custom_id"], listing.original_message_id, alice)
    expired = await click.response()
    assert expired.type == CHANNEL_MESSAGE and expired.flags == EPHEMERAL
    assert expired.content.startswith("This list expired") and "/exercises" in expired.content
