from hypothesis import given
from hypothesis import strategies as st

from bot.engine.normalize import MAX_INPUT_CHARS, normalize


def test_case_accents_punctuation_and_emoji_fold_away():
    assert normalize("Do SQUATS fix Hip-Dips?!? 🍑🔥") == normalize("do squats fix hip dips")
    assert normalize("Protéine") == normalize("proteine")


def test_slang_and_misspellings_share_one_spelling():
    assert normalize("hipdips") == normalize("hip dips") == normalize("violin hips") == normalize("hip dents")
    assert normalize("how much protien do u need") == normalize("how much protein do you need")
    assert normalize("brazilian butt lift") == normalize("BBL")
    assert normalize("bigger booty") == normalize("bigger glutes")


def test_plurals_and_filler_words():
    assert normalize("clamshells") == normalize("clamshell")
    assert normalize("how do I get rid of my hip dips") == normalize("get rid hip dip")


def test_filler_words_are_dropped_before_plurals_are_reduced():
    assert normalize("does it work") == "work"  # not "doe work"


def test_stretched_letters_collapse():
    assert normalize("hiiiip diiiips pleeeease") == normalize("hip dips please")


def test_discord_mentions_and_links_are_ignored():
    assert normalize("<@123456789> <@&42> <#99> do squats fix hip dips https://x.y/z") == normalize(
        "do squats fix hip dips")


@given(st.text(max_size=3000))
def test_total_deterministic_and_bounded(text):
    first = normalize(text)
    assert first == normalize(text)
    assert isinstance(first, str) and len(first) <= MAX_INPUT_CHARS * 2
    assert normalize(first) == first  # idempotent: phrasings and questions meet in one form


def test_rewrite_targets_are_fixed_points():
    from bot.engine.normalize import PHRASES, WORDS

    for target in {*WORDS.values(), *PHRASES.values()}:
        assert normalize(target, keep_stopwords=True) == target, target


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\u200e", "\u202e", "\U000e0041"]


def test_invisible_characters_inside_words_are_dropped(fixture_engine):
    hidden = "will s\u200bq\u200buats fix my h\u200bip d\u200bips"
    assert normalize(hidden) == normalize("will squats fix my hip dips")
    for char in INVISIBLE:
        assert normalize(f"cre{char}atine hip{char} dips") == normalize("creatine hip dips"), repr(char)
    assert fixture_engine.ask(hidden).result.entry == fixture_engine.ask("will squats fix my hip dips").result.entry


@given(st.text(max_size=300), st.lists(st.tuples(st.integers(min_value=0), st.characters(categories=["Cf"])),
                                       max_size=30))
def test_format_characters_anywhere_never_change_the_result(text, insertions):
    spiked = text
    for position, char in insertions:
        at = position % (len(spiked) + 1)
        spiked = spiked[:at] + char + spiked[at:]
    assert normalize(spiked) == normalize(text)


def test_normalising_twice_changes_nothing_even_for_stacked_endings():
    for text in ("001SING", "feelings", "buildings", "squattings"):
        assert normalize(normalize(text)) == normalize(text)
