"""Study designs on sources, grades that follow them, and safety notes on risky topics."""

import textwrap

import pytest

from bot.engine.knowledge import validate_paths


def problems_of(directory):
    _, problems = validate_paths([directory])
    return [str(p) for p in problems]


def write(directory, name, text):
    (directory / name).write_text(textwrap.dedent(text))


def test_a_source_needs_a_design_and_the_old_kind_is_gone(kb_copy):
    write(kb_copy, "more-sources.yaml", """\
        sources:
          - id: nodesign2020
            title: A study with no design
          - id: oldkind2020
            title: A study with the old field
            design: rct
            kind: trial
        """)
    found = problems_of(kb_copy)
    assert "kb/more-sources.yaml:2: source 'nodesign2020', field 'design': missing required field" in found
    assert any(p.startswith("kb/more-sources.yaml:7: source 'oldkind2020', field 'kind': unknown field")
               for p in found)


def test_a_source_carries_the_vetted_status_and_supports(kb_copy):
    write(kb_copy, "more-sources.yaml", """\
        sources:
          - id: vetted2020
            title: A partly vetted study
            design: cohort
            status: PARTLY
            supports: ["What it found, in the vetted words"]
        """)
    write(kb_copy, "bad-sources.yaml", """\
        sources:
          - id: badstatus2020
            title: A study with a made-up status
            design: cohort
            status: probably
        """)
    kb, problems = validate_paths([kb_copy])
    assert kb.sources["vetted2020"].status == "partly"
    assert kb.sources["vetted2020"].supports == ["What it found, in the vetted words"]
    assert kb.sources["vispute2011"].status == "confirmed"
    assert [str(p).split(": ")[0] for p in problems] == ["kb/bad-sources.yaml:5"]


RISKY_MYTH = """\
myths:
  - id: new-surgery
    title: Is a brand new operation safe?
    verdict: myth
    evidence: limited
    answer: An answer.
    questions: [is the brand new operation safe]
    sources: [vispute2011]
    tags: [cosmetic, {tag}]
"""


def test_a_surgery_entry_without_a_safety_note_is_refused_at_its_tag(kb_copy):
    write(kb_copy, "risky.yaml", RISKY_MYTH.format(tag="Surgery"))
    assert problems_of(kb_copy) == [
        "kb/risky.yaml:9: myth 'new-surgery': tagged 'Surgery', so it needs a 'safety' note "
        "(when to see a clinician, which symptoms are an emergency)"]


def test_every_safety_topic_needs_the_note_and_the_note_satisfies_it(kb_copy):
    for tag in ("injections", "eating", "pain"):
        write(kb_copy, "risky.yaml", RISKY_MYTH.format(tag=tag))
        assert len(problems_of(kb_copy)) == 1, tag
    write(kb_copy, "risky.yaml", RISKY_MYTH.format(tag="pain") + "    safety: Sharp pain means stop.\n")
    kb, problems = validate_paths([kb_copy])
    assert problems == [] and kb.entries["new-surgery"].safety == "Sharp pain means stop."


def test_a_safety_note_stays_short(kb_copy):
    write(kb_copy, "risky.yaml", RISKY_MYTH.format(tag="pain") + f"    safety: {'x' * 701}\n")
    assert any(p.startswith("kb/risky.yaml:10:") and "at most 700 characters" in p for p in problems_of(kb_copy))


STUDIES = """\
sources:
  - id: emg2020
    title: Muscle activation in a lab
    design: emg
  - id: emgreview2021
    title: A systematic review of muscle activation studies
    design: systematic-review
    reviewed_design: emg
  - id: rct2019
    title: A randomised trial
    design: rct
  - id: rct2020
    title: Another randomised trial
    design: rct
  - id: survey2018
    title: A survey of surgeons
    design: survey
  - id: blog2022
    title: A coach's blog post
    design: expert
"""

GRADED_MYTH = """\
myths:
  - id: graded-myth
    title: Does this graded claim hold?
    verdict: myth
    evidence: {grade}
    answer: An answer.
    questions: [does this graded claim hold up]
    sources: [{sources}]
"""


def graded(kb_copy, grade, sources):
    write(kb_copy, "studies.yaml", STUDIES)
    write(kb_copy, "graded.yaml", GRADED_MYTH.format(grade=grade, sources=", ".join(sources)))
    return problems_of(kb_copy)


def test_strong_on_one_emg_study_is_refused_at_the_evidence_line(kb_copy):
    assert graded(kb_copy, "strong", ["emg2020"]) == [
        "kb/graded.yaml:5: myth 'graded-myth': evidence 'strong' is stronger than its sources can carry "
        "(1 emg: at most 'limited'); 'strong' needs a meta-analysis or systematic review, or at least two RCTs"]


def test_a_review_of_emg_studies_counts_as_emg(kb_copy):
    assert len(graded(kb_copy, "moderate", ["emg2020", "emgreview2021"])) == 1
    assert graded(kb_copy, "limited", ["emg2020", "emgreview2021"]) == []


def test_grades_allowed_by_the_designs_pass(kb_copy):
    assert graded(kb_copy, "strong", ["rct2019", "rct2020"]) == []
    assert graded(kb_copy, "moderate", ["rct2019", "emg2020"]) == []
    assert graded(kb_copy, "limited", ["survey2018"]) == []
    assert graded(kb_copy, "expert opinion", ["blog2022"]) == []


def test_grades_beyond_the_designs_are_refused(kb_copy):
    assert len(graded(kb_copy, "strong", ["rct2019", "survey2018"])) == 1
    assert len(graded(kb_copy, "moderate", ["survey2018", "blog2022"])) == 1
    assert len(graded(kb_copy, "limited", ["blog2022"])) == 1


def test_reviewed_design_belongs_to_reviews_only(kb_copy):
    write(kb_copy, "odd.yaml", """\
        sources:
          - id: odd2020
            title: A trial that claims to review
            design: rct
            reviewed_design: emg
        """)
    assert any(p.startswith("kb/odd.yaml:2: source 'odd2020': reviewed_design is only for reviews")
               for p in problems_of(kb_copy))


def test_an_entry_citing_only_free_links_is_not_graded(kb_copy):
    write(kb_copy, "links.yaml", GRADED_MYTH.format(grade="strong", sources="").replace(
        "sources: []", "links: [https://example.org/a-study]"))
    assert problems_of(kb_copy) == []


async def test_a_moderator_entry_citing_the_bibliography_is_graded_too(tmp_path, fixture_kb):
    from bot.storage.guild_store import ChangeRefused, GuildStore
    from tests.storage.conftest import ANA, GUILD, creatine_entry

    store = GuildStore(tmp_path / "data", fixture_kb)
    with pytest.raises(ChangeRefused, match="evidence 'strong' is stronger than its sources can carry"):
        await store.add(GUILD, creatine_entry(evidence="strong", sources=["vispute2011"], links=[]), ANA)
    added = await store.add(GUILD, creatine_entry(evidence="strong"), ANA)  # a free DOI link only
    assert added.entry.evidence == "strong"
