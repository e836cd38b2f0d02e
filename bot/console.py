"""The console chat: the same engine as the Discord bot, in a terminal."""

import sys
from typing import TextIO

from bot.engine.conversation import FollowUp, follow_up_intent
from bot.engine.engine import Engine, GuildKnowledge, Reply
from bot.engine.render import EntryView, as_text
from bot.settings import Settings

PROMPT = "you> "
GOODBYE = {"quit", "exit", "bye", ":q"}


def describe_reply(knowledge: GuildKnowledge, reply: Reply) -> str:
    result = reply.result
    if result.status == "answer" and reply.view:
        return as_text(reply.view)
    if result.status == "clarify":
        titles = [title for _, title in knowledge.did_you_mean(result)]
        return "Did you mean: " + " or ".join(f"“{t}”" for t in titles) + "? Try asking with more detail."
    return ("I don't have a sourced answer for that yet. Try naming the topic, e.g. "
            "“do squats fix hip dips?” or “how much protein do I need?”.")


def describe_follow_up(knowledge: GuildKnowledge, view: EntryView, intent: FollowUp) -> str:
    if intent == "sources":
        return "\n".join(f"- {s.citation} {s.link or ''}".rstrip() for s in view.sources) or "No sources listed."
    if intent == "more":
        return (view.more or "That's the whole answer; the sources have the detail.").replace("**", "")
    names = knowledge.related_exercises(view)
    return ("Exercises for this: " + ", ".join(names)) if names else "No linked exercises for this topic."


def chat(engine: Engine, settings: Settings, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    knowledge = engine.for_guild(None)  # the console is no server: the curated knowledge, as in a DM
    print(f"Mythbot console: {len(knowledge.myths())} myths, {len(knowledge.exercises())} exercises. "
          "Ask a question; 'quit' to leave. After an answer, try 'sources?', 'why?' or 'what exercises then?'.",
          file=stdout)
    last_topic: str | None = None
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
        intent = follow_up_intent(question)
        if intent and last_topic and (view := knowledge.view(last_topic)):
            print(describe_follow_up(knowledge, view, intent) + "\n", file=stdout)
            continue
        reply = knowledge.ask(question)
        if reply.result.status == "answer":
            last_topic = reply.result.entry
        print(describe_reply(knowledge, reply) + "\n", file=stdout)
