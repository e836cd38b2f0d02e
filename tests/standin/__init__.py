"""A local stand-in for Discord's REST API and gateway that the real discord.py client runs against.

See README.md. Tests get it through the `fake_discord`, `start_bot` and `discord_log` fixtures
(plugin.py, registered in tests/conftest.py).
"""

from .fake import FakeDiscord
from .harness import DiscordLogCapture, running

__all__ = ["DiscordLogCapture", "FakeDiscord", "running"]
