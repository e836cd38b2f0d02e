"""Cooldowns and flood limits, kept in bounded memory so a busy server cannot grow them forever."""

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable


class Cooldowns:
    """Remembers when each key last fired; `ready` says whether `seconds` have passed since."""

    def __init__(self, capacity: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.clock = clock
        self._last: OrderedDict[Hashable, float] = OrderedDict()

    def ready(self, key: Hashable, seconds: float) -> bool:
        last = self._last.get(key)
        return last is None or self.clock() - last >= seconds

    def touch(self, key: Hashable) -> None:
        self._last.pop(key, None)
        self._last[key] = self.clock()
        while len(self._last) > self.capacity:
            self._last.popitem(last=False)


class FloodLimit:
    """At most `limit` events per key in any `window` seconds (a sliding window)."""

    def __init__(self, limit: int, window: float, capacity: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.capacity = capacity
        self.clock = clock
        self._events: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def allow(self, key: Hashable) -> bool:
        """Count an event for `key` if it is within the limit; False (and not counted) if not."""
        now = self.clock()
        events = self._events.pop(key, None) or deque()
        while events and now - events[0] >= self.window:
            events.popleft()
        allowed = len(events) < self.limit
        if allowed:
            events.append(now)
        self._events[key] = events
        while len(self._events) > self.capacity:
            self._events.popitem(last=False)
        return allowed
