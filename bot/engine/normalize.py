"""Text normalisation shared by every phrasing and every question.

Both sides of a comparison go through `normalize`, so the rules only need to be consistent, not
linguistically perfect: fold case and accents, drop punctuation and emoji, rewrite slang and common
misspellings to one spelling, reduce plurals, and drop filler words that every question shares.
"""

import re
import unicodedata
from functools import lru_cache

# Longer inputs are cut before any work: no real question is this long, and it bounds the cost.
MAX_INPUT_CHARS = 2000

_REPEATS = re.compile(r"(.)\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"['’`´]")
_DISCORD_MARKUP = re.compile(r"<(?:@[!&]?|#|a?:\w+:)\d+>|https?://\S+")

# Phrase rewrites, applied to the spaced-out text before tokenising. Keys are normalised already.
PHRASES: dict[str, str] = {
    "hip dip": "hipdip",
    "hip dips": "hipdip",
    "hips dips": "hipdip",
    "hip dents": "hipdip",
    "hip indents": "hipdip",
    "hip indentations": "hipdip",
    "hip divots": "hipdip",
    "violin hips": "hipdip",
    "violin shape": "hipdip",
    "trochanteric depression": "hipdip",
    "trochanteric depressions": "hipdip",
    "brazilian butt lift": "bbl",
    "brazillian butt lift": "bbl",
    "brazilian butt lifts": "bbl",
    "fat transfer": "fatgraft",
    "fat transfers": "fatgraft",
    "fat grafting": "fatgraft",
    "fat graft": "fatgraft",
    "fat grafts": "fatgraft",
    "fat injection": "fatgraft",
    "fat injections": "fatgraft",
    "glute med": "glutemed",
    "glute medius": "glutemed",
    "gluteus medius": "glutemed",
    "glute min": "glutemin",
    "glute minimus": "glutemin",
    "gluteus minimus": "glutemin",
    "glute max": "glutemax",
    "glute maximus": "glutemax",
    "gluteus maximus": "glutemax",
    "hip thrust": "hipthrust",
    "hip thrusts": "hipthrust",
    "side butt": "sidebutt",
    "love handles": "lovehandle",
    "love handle": "lovehandle",
    "spot reduction": "spotreduce",
    "spot reduce": "spotreduce",
    "spot reducing": "spotreduce",
    "spot train": "spotreduce",
    "spot training": "spotreduce",
    "poly l lactic": "plla",
    "poly l lactic acid": "plla",
    "fascia blasting": "fasciablast",
    "fascia blaster": "fasciablast",
    "anterior pelvic tilt": "apt",
    "pelvic tilt": "pelvictilt",
    "progressive overload": "overload",
    "calorie deficit": "deficit",
    "caloric deficit": "deficit",
    "calorie surplus": "surplus",
    "caloric surplus": "surplus",
    "side plank": "sideplank",
    "side planks": "sideplank",
    "step up": "stepup",
    "step ups": "stepup",
    "split squat": "splitsquat",
    "split squats": "splitsquat",
    "curtsy lunge": "curtsylunge",
    "curtsey lunge": "curtsylunge",
    "curtsy lunges": "curtsylunge",
    "curtsey lunges": "curtsylunge",
    "clam shell": "clamshell",
    "clam shells": "clamshell",
    "lateral walk": "lateralwalk",
    "lateral walks": "lateralwalk",
    "monster walk": "lateralwalk",
    "monster walks": "lateralwalk",
    "band walk": "lateralwalk",
    "band walks": "lateralwalk",
    "romanian deadlift": "rdl",
    "romanian deadlifts": "rdl",
    "single leg": "singleleg",
    "one leg": "singleleg",
    "social media": "socialmedia",
    "work out": "workout",
    "working out": "workout",
    "weight loss": "fatloss",
    "lose weight": "fatloss",
    "losing weight": "fatloss",
    "lost weight": "fatloss",
    "lose fat": "fatloss",
    "losing fat": "fatloss",
    "burn fat": "fatloss",
    "burning fat": "fatloss",
    "fat loss": "fatloss",
}

# Single-token rewrites: slang, chat shorthand and frequent misspellings.
WORDS: dict[str, str] = {
    "hipdips": "hipdip", "hipdipd": "hipdip", "hipdis": "hipdip",
    "booty": "glute", "butt": "glute", "bum": "glute", "ass": "glute", "glutes": "glute",
    "gluteal": "glute", "buttock": "glute", "buttocks": "glute", "bootie": "glute", "peach": "glute",
    "bbls": "bbl",
    "sculptra": "plla", "sculptura": "plla", "scultra": "plla", "filler": "filler", "fillers": "filler",
    "u": "you", "ya": "you", "r": "are", "ur": "your", "y": "why", "pls": "please", "plz": "please",
    "wat": "what", "wut": "what", "abt": "about", "bc": "because", "cuz": "because", "cos": "because",
    "gonna": "going", "wanna": "want", "gotta": "got", "tho": "though", "thru": "through",
    "protien": "protein", "protine": "protein", "proteine": "protein",
    "squat": "squat", "squats": "squat", "sqauts": "squat", "squates": "squat", "squads": "squat",
    "excercise": "exercise", "exersize": "exercise", "exercize": "exercise", "excercises": "exercise",
    "workouts": "workout", "wrkout": "workout", "gym": "gym",
    "hipthrusts": "hipthrust", "thrusts": "thrust",
    "kgs": "kg", "kilo": "kg", "kilos": "kg", "lbs": "lb", "pounds": "lb", "pound": "lb",
    "toning": "tone", "toned": "tone", "tonning": "tone", "tones": "tone",
    "bulky": "bulk", "bulked": "bulk", "bulking": "bulk",
    "muscles": "muscle", "musle": "muscle", "muscel": "muscle",
    "clams": "clamshell", "clamshells": "clamshell",
    "rdls": "rdl", "bss": "splitsquat", "bulgarians": "bulgarian",
    "abductor": "abduction", "abductors": "abduction", "abduct": "abduction",
    "hydrated": "hydration", "hydrate": "hydration",
    "insta": "socialmedia", "ig": "socialmedia", "tiktok": "socialmedia", "instagram": "socialmedia",
    "photoshop": "edited", "photoshopped": "edited", "facetune": "edited", "filtered": "edited",
    "genetics": "genetic", "genes": "genetic", "gene": "genetic", "dna": "genetic",
    "fix": "fix", "fixes": "fix", "fixed": "fix", "rid": "rid",
}

# Words nearly every question contains; dropping them lets the content words decide the score.
STOPWORDS = frozenset(
    """
    a an the i im i'm me my mine you your yours we our he she it its they them their this that these
    those is are was were be been being am do does did doing done have has had having can could will
    would should shall may might must of to in on at by for with from into onto about as and or but
    if so than then there here what which who whom whose when where why how any some all just really
    very too also still even ever only much more most lot lots get gets getting got go going want
    wants need needs know tell please hey hi hello guys anyone someone pretty actually like ok okay
    yeah yes no not dont does doesnt did didnt isnt arent wasnt wont cant cannot possible thing
    things way ways kind sort question asking ask bit little
    """.split()  # noqa: SIM905 - a word list reads best as text
)


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _stem(token: str) -> str:
    """`_singular` until nothing changes ("feelings" -> "feeling" -> "feel"), so normalising twice is a no-op."""
    for _ in range(4):
        shorter = _singular(token)
        if shorter == token:
            break
        token = shorter
    return token


def _singular(token: str) -> str:
    if len(token) > 5 and token.endswith("ing"):
        stem = token[:-3]
        return stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "aeiousl" else stem
    if len(token) <= 3 or token.endswith(("ss", "us", "is")):
        return token
    if token.endswith("ies") and len(token) > 4:
        return token[:-3] + "y"
    if token.endswith(("ches", "shes", "xes")):
        return token[:-2]
    if token.endswith("s"):
        return token[:-1]
    return token


def _rewrite_phrases(text: str) -> str:
    padded = f" {text} "
    for phrase in _PHRASES_LONGEST_FIRST:
        if f" {phrase} " in padded:
            padded = padded.replace(f" {phrase} ", f" {PHRASES[phrase]} ")
    return padded.strip()


_PHRASES_LONGEST_FIRST = sorted(PHRASES, key=len, reverse=True)


@lru_cache(maxsize=4096)
def normalize(text: str, *, keep_stopwords: bool = False) -> str:
    """Return the comparable form of `text`: lowercase ASCII words, rewritten, singular, no filler."""
    text = text[:MAX_INPUT_CHARS]
    if not text.isascii():  # invisible format characters (Cf: zero-width, soft hyphen, BOM) must not split words
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = _DISCORD_MARKUP.sub(" ", text)
    text = _strip_accents(unicodedata.normalize("NFKC", text)).casefold()
    text = _APOSTROPHES.sub("", text)
    text = _REPEATS.sub(r"\1", text)
    words = _NON_WORD.sub(" ", text).split()
    if not keep_stopwords:
        # Filler goes first so phrases match across it: "lose some weight" reads as "lose weight".
        words = [word for word in words if word not in STOPWORDS]
    tokens = []
    for raw in _rewrite_phrases(" ".join(words)).split():
        token = WORDS.get(raw) or WORDS.get(_stem(raw)) or _stem(raw)
        if keep_stopwords or token not in STOPWORDS:
            tokens.append(token)
    return " ".join(tokens)
