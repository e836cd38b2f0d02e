"""Follow-ups to the bot's own answers ("sources?", "why?", "what exercises then?") and the short
memory of which topic each member was last answered on, per channel."""

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal

FollowUp = Literal["sources", "more", "exercises"]

_PATTERNS: tuple[tuple[FollowUp, re.Pattern[str]], ...] = (
    ("sources", re.compile(r"^(?:the |your |any |what(?:'?s| are| is) (?:the |your )?)?"
                           r"(?:sources?|studies|study|citations?|refs?|references?|proof|evidence|links?)\b")),
    ("sources", re.compile(r"^(?:says who|according to (?:who|whom|what))\b")),
    ("exercises", re.compile(r"^(?:so |ok(?:ay)? |then )?(?:what|which) (?:exercises?|moves?|workouts?)\b")),
    ("exercises", re.compile(r"^(?:so )?how (?:do|should|can) i (?:do|train|fix|work on) (?:that|it|them|this)\b")),
    ("exercises", re.compile(r"^(?:exercises?|any exercises?|what should i do( then| instead)?)\b")),
    ("more", re.compile(r"^(?:why|how come|more|tell me more|explain|go on|details?|elaborate|really)"
                        r"(?: (?:is that|is it|that|so|though|tho|exactly|please|pls|then|more))?$")),
)
MAX_FOLLOW_UP_CHARS = 60


def follow_up_intent(text: str) -> FollowUp | None:
    """What a short reply to one of our answers asks for, or None if it is a new question."""
    cleaned = re.sub(r"[^\w\s']", " ", text.casefold()).strip()
    cleaned = re.sub(r"\s+", " ", cleaned)
    if not cleaned or len(cleaned) > MAX_FOLLOW_UP_CHARS:
        return None
    for intent, pattern in _PATTERNS:
        if pattern.search(cleaned):
            return intent
    return None


class ConversationMemory:
    """The last entry answered per (user, channel), forgotten after `ttl` seconds; at most `capacity` kept."""

    def __init__(self, ttl: float, capacity: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self.clock = clock
        self._topics: OrderedDict[tuple[int, int], tuple[str, float]] = OrderedDict()

    def remember(self, user_id: int, channel_id: int, entry_id: str) -> None:
        key = (user_id, channel_id)
        self._topics.pop(key, None)
        self._topics[key] = (entry_id, self.clock())
        while len(self._topics) > self.capacity:
            self._topics.popitem(last=False)

    def recall(self, user_id: int, channel_id: int) -> str | None:
        found = self._topics.get((user_id, channel_id))
        if found is None:
            return None
        entry_id, at = found
        if self.clock() - at > self.ttl:
            del self._topics[(user_id, channel_id)]
            return None
        return entry_id

    def __len__(self) -> int:
        return len(self._topics)
