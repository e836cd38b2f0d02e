"""`mythbot` in a process of its own, against a stand-in: `python -m tests.standin.launch PORT ARGS...`.

It points discord.py at the stand-in listening on 127.0.0.1:PORT with the same two hooks as the fixtures
(harness.py), then runs the real command line, `mythbot ARGS...`, settings from the environment included.
For journeys that need separate processes, such as shards run by two processes on one database; anything
else runs its bots in the test's own process, where the fixtures check them.
"""

import sys

from bot.cli import main

from .harness import discord_py_pointed_at
from .rest import API_PREFIX


def run(port: int, argv: list[str]) -> int:
    with discord_py_pointed_at(f"http://127.0.0.1:{port}{API_PREFIX}", f"ws://127.0.0.1:{port}/"):
        return main(argv)


if __name__ == "__main__":
    sys.exit(run(int(sys.argv[1]), sys.argv[2:]))
