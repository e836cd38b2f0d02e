"""Study designs on sources, grades that follow them, and safety notes on risky topics."""

import textwrap

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
