"""The console chat: the same engine as the Discord bot, in a terminal."""

import sys

from bot.engine.engine import Engine, Reply
from bot.engine.render import as_text
from bot.settings import Settings

PROMPT = "you> "
GOODBYE = {"quit", "exit", "bye", ":q"}


def describe_reply(engine: Engine, reply: Reply) -> str:
    result = reply.result
    if result.status == "answer" and reply.view:
        return as_text(reply.view)
    if result.status == "clarify":
        options = [result.entry, *(alt.entry for alt in result.alternatives)]
        titles = [engine.kb.entries[eid].title for eid in options if eid in engine.kb.entries]
        return "Did you mean: " + " or ".join(f"“{t}”" for t in titles) + "? Try asking with more detail."
    return ("I don't have a sourced answer for that yet. Try naming the topic, e.g. "
            "“do squats fix hip dips?” or “how much protein do I need?”.")


def chat(engine: Engine, settings: Settings, stdin=None, stdout=None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    print(f"Mythbot console: {len(engine.kb.myths)} myths, {len(engine.kb.exercises)} exercises. "
          "Ask a question; 'quit' to leave.", file=stdout)
    while True:
        print(PROMPT, end="", file=stdout, flush=True)
        line = stdin.readline()
        if not line:
            print(file=stdout)
            return 0
        question = line.strip()
        if not question:
            continue
        if question.lower() in GOODBYE:
            return 0
        print(describe_reply(engine, engine.ask(question)) + "\n", file=stdout)
