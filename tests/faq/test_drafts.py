import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.engine.schema import ANSWER_MAX, TITLE_MAX, MythEntry, Stewardship
from bot.faq.drafts import (
    ANSWER,
    FORM_FIELDS,
    QUESTIONS,
    SOURCES,
    TITLE,
    VERDICT,
    Draft,
    DraftError,
    build_entry,
    draft_of,
    parse_questions,
    parse_sources,
    parse_verdict,
    unmask_links,
)

STEWARD = Stewardship(created_by="Ana (5)", created_at=datetime(2025, 1, 1, tzinfo=UTC))
GOOD = Draft(
    title="Does creatine make you bloated?",
    questions="does creatine make you bloated\n- creatine water retention\n\nDoes creatine make you bloated",
    answer="A little water at first. See [the review](https://example.org/review).",
    verdict="Partly True / moderate",
    sources="doi: 10.1186/s12970-021-00412-w\nhttps://pubmed.ncbi.nlm.nih.gov/28698222/ vispute2011",
)


def test_a_good_draft_becomes_an_entry():
    entry = build_entry(GOOD, entry_id="creatine-bloating", stewardship=STEWARD, known_sources={"vispute2011"})
    assert entry.questions == ["does creatine make you bloated", "creatine water retention"]
    assert (entry.verdict, entry.evidence) == ("partly true", "moderate")
    assert entry.links == ["https://doi.org/10.1186/s12970-021-00412-w", "https://pubmed.ncbi.nlm.nih.gov/28698222/"]
    assert entry.sources == ["vispute2011"]
    assert entry.answer == "A little water at first. See the review (https://example.org/review)."
    assert entry.stewardship == STEWARD


def test_form_limits_match_the_schema_and_discord():
    assert TITLE.max_length == TITLE_MAX and ANSWER.max_length == ANSWER_MAX
    assert len(FORM_FIELDS) <= 5  # a Discord modal holds at most five text inputs
    assert all(len(f.label) <= 45 and f.max_length <= 4000 for f in FORM_FIELDS)


@pytest.mark.parametrize(("text", "expected"), [
    ("myth / moderate", ("myth", "moderate")),
    ("MYTH,strong", ("myth", "strong")),
    ("partly true limited", ("partly true", "limited")),
    ("depends; expert opinion", ("depends", "expert opinion")),
    ("strong / true", ("true", "strong")),
])
def test_verdict_and_evidence_are_read_strictly_but_with_any_separator(text, expected):
    assert parse_verdict(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("myth", "write a verdict and an evidence grade"),
    ("mith / moderate", "'mith' is not a verdict"),
    ("myth / expert", "'expert' is not an evidence grade"),
    ("", "write a verdict"),
])
def test_bad_verdicts_name_the_field_and_the_allowed_words(text, message):
    with pytest.raises(DraftError, match=message) as caught:
        parse_verdict(text)
    assert caught.value.fields == [VERDICT.label] * len(caught.value.problems)


def test_sources_must_be_dois_https_links_or_known_ids():
    assert parse_sources("10.1519/JSC.0b013e3181fb4a46") == ([], ["https://doi.org/10.1519/JSC.0b013e3181fb4a46"])
    with pytest.raises(DraftError) as caught:
        parse_sources("http://example.org\nmy blog\nunknown2020")
    text = str(caught.value)
    assert "'http://example.org': use the https:// address" in text
    assert "'blog' is not a DOI" in text and "'unknown2020' is not a DOI" in text
    assert set(caught.value.fields) == {SOURCES.label}
    with pytest.raises(DraftError, match="at most 10"):
        parse_sources("\n".join(f"https://example.org/{n}" for n in range(11)))


def test_masked_links_are_written_out_so_members_see_where_they_lead():
    assert unmask_links("[click](https://evil.example/x)") == "click (https://evil.example/x)"
    assert unmask_links("[https://a.org](<https://a.org>)") == "https://a.org"
    assert unmask_links("plain https://a.org stays") == "plain https://a.org stays"


@pytest.mark.parametrize(("typed", "shown"), [
    ("[Official NIH study](HTTPS://evil.example/a)", "Official NIH study (HTTPS://evil.example/a)"),
    ("[[PubMed]](https://evil.example/b)", "[PubMed] (https://evil.example/b)"),
    ("[NIH](https://evil.example/c 'NIH')", "NIH (https://evil.example/c)"),
    ("[NIH](https://evil.example/c \"NIH\")", "NIH (https://evil.example/c)"),
    ("[NIH](https://evil.example/e (NIH))", "NIH (https://evil.example/e)"),
    ("[Official\nstudy](https://evil.example/d)", "Official\nstudy (https://evil.example/d)"),
    ("see [wiki]( <https://en.wikipedia.org/wiki/Hip_(anatomy)> ) now",
     "see wiki (https://en.wikipedia.org/wiki/Hip_(anatomy)) now"),
    ("[a [b](https://in.example)](https://out.example)", "a b (https://in.example) (https://out.example)"),
])
def test_every_masked_link_form_is_written_out(typed, shown):
    assert unmask_links(typed) == shown
    assert not discord_links(unmask_links(typed))


# The masked-link rule of simple-markdown, the parser Discord's markdown is built on, with any
# scheme (Discord renders http and https; a stricter oracle costs nothing).
_LINK_INSIDE = r"(?:\[[^\]]*\]|[^\[\]]|\](?=[^\[]*\]))*"
_HREF_AND_TITLE = r"\s*<?((?:\([^)]*\)|[^\s\\]|\\.)*?)>?(?:\s+['\"]([\s\S]*?)['\"])?\s*"
_DISCORD_LINK = re.compile(r"\[(" + _LINK_INSIDE + r")\]\(" + _HREF_AND_TITLE + r"\)")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def discord_links(text: str) -> list[str]:
    """Targets Discord could render as a masked link, starting at any '['."""
    found = []
    for start in (i for i, ch in enumerate(text) if ch == "["):
        match = _DISCORD_LINK.match(text, start)
        if match and _SCHEME.match(match.group(2)):
            found.append(match.group(2))
    return found


_PIECES = [*"[]()<>'\" \n\\:/.aZ", "https://", "evil.example", "](", "[[", "]]", " 'title'", " (t)"]
_NOISE = st.lists(st.sampled_from(_PIECES), max_size=6).map("".join)
_SCHEMES = st.sampled_from(["https://", "HTTPS://", "http://", "HtTp://", "javascript:", "mailto:"])
_TITLES = st.sampled_from(["", " 'NIH'", ' "NIH"', " (NIH)", " 'NIH\"", "  ", "\n'x'"])


def _link(label: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda text, space, angle, scheme, path, title: (
        f"[{text}]({space}{'<' * angle}{scheme}{path}{'>' * angle}{title}{space})"),
        label, st.sampled_from(["", " ", "\n"]), st.booleans(), _SCHEMES, _NOISE, _TITLES)


_LINKISH = st.lists(st.one_of(_NOISE, _link(st.one_of(_NOISE, _link(_NOISE)))), max_size=6).map("".join)


@given(_LINKISH)
def test_no_text_keeps_a_masked_link(text):
    shown = unmask_links(text)
    assert not discord_links(shown), shown


_URL = re.compile(r"[a-z][a-z0-9+.-]*:[^\s<>()\[\]'\"]*", re.IGNORECASE)


@given(_LINKISH)
def test_unmasking_keeps_every_url_in_sight_and_is_stable(text):
    shown = unmask_links(text)
    assert all(url in shown for url in _URL.findall(text))
    assert unmask_links(shown) == shown


def test_questions_drop_bullets_blanks_and_repeats():
    assert parse_questions("1. one\n* two\n\n ONE \n") == ["one", "two"]


def test_every_problem_is_reported_under_its_form_field():
    draft = Draft(title="", questions="ok\n" + "x" * 301, answer="a" * (ANSWER_MAX + 1), verdict="nope", sources="")
    with pytest.raises(DraftError) as caught:
        build_entry(draft, entry_id="x", stewardship=STEWARD)
    fields = caught.value.fields
    assert TITLE.label in fields and ANSWER.label in fields and VERDICT.label in fields
    assert any(f.startswith(QUESTIONS.label + " ('xxx") for f in fields)
    assert "at most 1500 characters" in str(caught.value)


def test_no_questions_is_an_error():
    with pytest.raises(DraftError, match="at least one question"):
        build_entry(Draft("T", " \n ", "A", "myth/strong"), entry_id="t", stewardship=STEWARD)


def test_editing_keeps_the_fields_the_form_does_not_show():
    previous = MythEntry(id="x", title="Old", questions=["old q"], aliases=["an alias"], keywords=["kw"],
                         evidence="limited", verdict="myth", answer="old", more="details", tags=["t"])
    draft = draft_of(previous)
    assert draft.verdict == "myth / limited" and draft.questions == "old q"
    edited = build_entry(Draft("New", "new q", "new", "true / strong", ""), entry_id="x", stewardship=STEWARD,
                         previous=previous)
    assert (edited.title, edited.questions, edited.verdict) == ("New", ["new q"], "true")
    assert (edited.aliases, edited.keywords, edited.more, edited.tags) == (["an alias"], ["kw"], "details", ["t"])


@pytest.mark.parametrize("hidden", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_invisible_control_characters_are_dropped_from_what_members_see(hidden):
    draft = Draft(title=f"Creatine{hidden} bloat?", questions="creatine\x07 bloat",
                  answer=f"A little{hidden} water at first.{hidden}", verdict="myth / moderate")
    entry = build_entry(draft, entry_id="x", stewardship=STEWARD)
    assert (entry.title, entry.questions, entry.answer) == ("Creatine bloat?", ["creatine bloat"],
                                                             "A little water at first.")


def test_an_answer_of_control_characters_only_is_refused_as_empty():
    with pytest.raises(DraftError, match="must not be empty"):
        build_entry(Draft("T", "q", "\x07\x00", "myth / moderate"), entry_id="t", stewardship=STEWARD)


def test_tabs_and_line_breaks_are_kept():
    draft = Draft(title="T", questions="q", answer="First line.\n\tSecond line.", verdict="myth / moderate")
    assert build_entry(draft, entry_id="t", stewardship=STEWARD).answer == "First line.\n\tSecond line."
