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
