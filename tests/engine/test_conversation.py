import pytest

from bot.engine.conversation import ConversationMemory, follow_up_intent
from bot.engine.cooldowns import Cooldowns, FloodLimit
from bot.engine.question_shape import looks_like_question


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize(("text", "intent"), [
    ("sources?", "sources"), ("Source??", "sources"), ("what are the sources", "sources"), ("says who", "sources"),
    ("any studies?", "sources"), ("why?", "more"), ("more", "more"), ("tell me more", "more"),
    ("what exercises then?", "exercises"), ("so how do I fix that", "exercises"),
    ("which exercises", "exercises"),
    ("do squats fix hip dips", None), ("", None), ("why do my hips dip in even though I am lean and train a lot", None),
])
def test_follow_up_intents(text, intent):
    assert follow_up_intent(text) == intent


def test_conversation_memory_expires_and_stays_bounded():
    clock = Clock()
    memory = ConversationMemory(ttl=60, capacity=2, clock=clock)
    memory.remember(1, 10, "spot-reduction")
    assert memory.recall(1, 10) == "spot-reduction" and memory.recall(2, 10) is None
    clock.now = 61
    assert memory.recall(1, 10) is None
    for user in range(5):
        memory.remember(user, 10, "x")
    assert len(memory) == 2 and memory.recall(4, 10) == "x" and memory.recall(0, 10) is None


def test_cooldowns():
    clock = Clock()
    cooldowns = Cooldowns(capacity=3, clock=clock)
    assert cooldowns.ready("c", 30)
    cooldowns.touch("c")
    assert not cooldowns.ready("c", 30)
    clock.now = 30
    assert cooldowns.ready("c", 30)


def test_flood_limit_bounds_replies_to_one_member():
    clock = Clock()
    flood = FloodLimit(limit=5, window=60, clock=clock)
    allowed = sum(flood.allow("alice") for _ in range(200))
    assert allowed == 5 and flood.allow("bob")
    clock.now = 60
    assert flood.allow("alice")


@pytest.mark.parametrize(("text", "shaped"), [
    ("how much protein should i eat", True), ("do squats fix hip dips", True), ("hip dips fix?", True),
    ("lol same", False), ("squats were brutal today", False), ("ok?", False),
    ("```py\nprint('is this a question?')\n```", False), ("https://example.com/is-this?", False),
    ("is " + "very " * 200 + "long?", False),
])
def test_question_shape(text, shaped):
    assert looks_like_question(text) is shaped
