"""Does a chat message look like a question? Passive listening answers only those."""

import re

QUESTION_OPENERS = frozenset(
    """is are am was were do does did can could should would will wont won't how why what whats what's
    which when where who whose any anyone has have havent isnt doesnt dont don't cant can't shall
    might must may r""".split()  # noqa: SIM905 - a word list reads best as text
)
MIN_WORDS, MAX_CHARS = 3, 600
_CODE = re.compile(r"```|`[^`]+`")
_URL = re.compile(r"https?://\S+")
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|@everyone|@here")


def looks_like_question(text: str) -> bool:
    if len(text) > MAX_CHARS or _CODE.search(text):
        return False
    words = _MENTION.sub(" ", _URL.sub(" ", text)).split()
    if len(words) < MIN_WORDS:
        return False
    first = words[0].casefold().strip(",.!:;")
    return "?" in text or first in QUESTION_OPENERS
