import textwrap

import pytest

from bot.engine.knowledge import KnowledgeError, load_knowledge, parse_text, validate_paths

MYTH = """\
myths:
  - id: {id}
    title: A title
    verdict: myth
    evidence: limited
    answer: An answer.
    questions: [{question}]
    sources: [vispute2011]
"""


def problems_of(directory):
    _, problems = validate_paths([directory])
    return [str(p) for p in problems]


def write(directory, name, text):
    (directory / name).write_text(textwrap.dedent(text))


def test_fixture_loads_into_an_immutable_base(fixture_kb):
    assert {"spot-reduction", "clamshell"} <= set(fixture_kb.entries)
    with pytest.raises(TypeError):
        fixture_kb.entries["x"] = None  # type: ignore[index]
    assert fixture_kb.sources_of(fixture_kb.entries["spot-reduction"])[0].id == "vispute2011"


def test_unknown_and_missing_fields_point_at_the_entry(kb_copy):
    write(kb_copy, "bad.yaml", """\
        myths:
          - id: new-myth
            title: T
            verdict: myth
            evidence: limited
            questions: [a question]
            sources: [vispute2011]
            colour: blue
        """)
    found = problems_of(kb_copy)
    assert any(p.startswith("kb/bad.yaml:8: myth 'new-myth', field 'colour': unknown field") for p in found)
    assert any(p.startswith("kb/bad.yaml:2: myth 'new-myth', field 'answer': missing required field") for p in found)


def test_bad_slug_empty_phrasing_and_long_answer(kb_copy):
    write(kb_copy, "bad.yaml", f"""\
        myths:
          - id: Bad Slug
            title: T
            verdict: myth
            evidence: limited
            answer: "{'x' * 1600}"
            questions: ["fine", "   "]
            sources: [vispute2011]
        """)
    found = problems_of(kb_copy)
    assert any(p.startswith("kb/bad.yaml:2: myth 'Bad Slug', field 'id': String should match pattern") for p in found)
    assert any(p.startswith("kb/bad.yaml:6:") and "at most 1500 characters" in p for p in found)
    assert "kb/bad.yaml:7: myth 'Bad Slug', field 'questions[1]': must not be empty or only whitespace" in found


def test_duplicate_ids_across_files_name_the_first(kb_copy):
    write(kb_copy, "zz.yaml", MYTH.format(id="protein-intake", question="a brand new question"))
    found = problems_of(kb_copy)
    assert found == ["kb/zz.yaml:2: duplicate id 'protein-intake' (first at kb/myths.yaml:14)"]


def test_unknown_source_and_related_ids(kb_copy):
    write(kb_copy, "zz.yaml", MYTH.format(id="new-myth", question="a brand new question").replace(
        "sources: [vispute2011]", "sources: [nobody2020]\n    related: [no-such-entry]"))
    found = problems_of(kb_copy)
    assert ("kb/zz.yaml:8: myth 'new-myth': unknown source id 'nobody2020' "
            "(add it to knowledge/sources.yaml first)") in found
    assert "kb/zz.yaml:9: myth 'new-myth': unknown related id 'no-such-entry'" in found


def test_a_phrasing_shared_by_two_entries_is_reported(kb_copy):
    write(kb_copy, "zz.yaml", MYTH.format(id="new-myth", question="Does SPOT reduction work?"))
    found = problems_of(kb_copy)
    assert len(found) == 1
    assert found[0].startswith("kb/zz.yaml:7: myth 'new-myth': question 'Does SPOT reduction work?'")
    assert "'spot-reduction'" in found[0]


def test_every_problem_is_collected_not_just_the_first(kb_copy):
    write(kb_copy, "a.yaml", "myths: [\n")
    write(kb_copy, "b.yaml", "exercises:\n  - id: x\n")
    found = problems_of(kb_copy)
    assert any(p.startswith("kb/a.yaml:") and "YAML syntax error" in p for p in found)
    assert sum(p.startswith("kb/b.yaml:2:") for p in found) >= 5  # each missing field of the exercise


def test_top_level_must_be_a_mapping():
    parsed = parse_text("- just\n- a list\n", "x.yaml")
    assert [str(p) for p in parsed.problems] == [
        "x.yaml:1: expected a mapping with 'myths', 'exercises' or 'sources' at the top"]


def test_a_server_file_saved_with_control_characters_still_loads_without_them():
    from bot.storage.guild_file import parse_guild_text

    text = textwrap.dedent("""\
        myths:
          - id: bell
            title: "Ding\\a dong"
            questions: ["ring\\x00 the bell"]
            verdict: myth
            evidence: limited
            answer: "No\\x1b[31m bells."
        hidden: []
        """)
    parsed = parse_guild_text(text, "guilds/1.yaml")
    assert parsed.problems == ()
    [entry] = parsed.content.myths
    assert (entry.title, entry.questions, entry.answer) == ("Ding dong", ["ring the bell"], "No[31m bells.")


def test_invalid_utf8_is_a_problem_not_a_crash():
    assert "not valid UTF-8" in str(parse_text(b"myths: [\xff\xfe]\n", "x.yaml").problems[0])


def test_load_knowledge_raises_with_every_problem(kb_copy):
    write(kb_copy, "zz.yaml", "myths: [\n")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert len(info.value.problems) == 1
    with pytest.raises(KnowledgeError, match="knowledge directory not found"):
        load_knowledge(kb_copy / "missing")


def test_yaml_true_means_the_verdict_true(kb_copy):
    write(kb_copy, "zz.yaml", MYTH.format(id="new-myth", question="a brand new question").replace(
        "verdict: myth", "verdict: true"))
    assert load_knowledge(kb_copy).entries["new-myth"].verdict == "true"
