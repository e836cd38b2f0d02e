"""A local stand-in for Discord's REST API and gateway that the real discord.py client runs against.

See README.md. Tests get it through the `fake_discord`, `start_bot` and `discord_log` fixtures
(harness.py, registered in tests/conftest.py).
"""
