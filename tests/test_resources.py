"""The shipped knowledge base: valid, its schema current, its sources vetted and linked."""

import json
from pathlib import Path

import pytest
import yaml

from bot.engine.knowledge import knowledge_files, load_knowledge, validate_paths
from bot.engine.schema_export import check_schema, knowledge_schema
from tests.conftest import PROJECT_ROOT

KNOWLEDGE = PROJECT_ROOT / "knowledge"
VETTED = PROJECT_ROOT.parent / "shared" / "evidence" / "sources.yaml"


@pytest.fixture(scope="module")
def shipped():
    return load_knowledge(KNOWLEDGE)


def test_committed_schema_matches_the_models():
    assert check_schema(KNOWLEDGE / "schema.json"), "knowledge/schema.json is stale: run `mythbot schema`"
    assert json.loads((KNOWLEDGE / "schema.json").read_text())["properties"].keys() == {
        "sources", "myths", "exercises", "out_of_scope"}
    assert knowledge_schema()["title"] == "Mythbot knowledge file"


def test_every_yaml_file_names_the_schema_for_editors():
    for path in knowledge_files([KNOWLEDGE]):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("$schema=", 1)[1].strip()).resolve()
        assert target == (KNOWLEDGE / "schema.json").resolve(), path


def test_every_source_a_member_sees_has_a_link(shipped):
    cited = {sid for entry in shipped.entries.values() for sid in entry.sources}
    assert sorted(sid for sid in cited if not shipped.sources[sid].link) == []


def _vetted_elsewhere(shipped) -> set[str]:
    """Ids of the shipped sources that are in the vetted bibliography (shared/evidence/sources.yaml)."""
    vetted = yaml.safe_load(VETTED.read_text(encoding="utf-8"))
    keys = {(k, str(s[k]).lower()) for s in vetted for k in ("doi", "pmid", "title") if s.get(k)}
    return {source.id for source in shipped.sources.values()
            if {(k, str(getattr(source, k)).lower()) for k in ("doi", "pmid", "title") if getattr(source, k)} & keys}


def test_every_source_is_vetted_there_or_carries_its_own_vetting(shipped):
    """A source outside the vetted bibliography was vetted here: a status, what it supports, where it was seen."""
    if not VETTED.exists():
        pytest.skip("shared/evidence is not beside this checkout")
    vetted = _vetted_elsewhere(shipped)
    for source in shipped.sources.values():
        if source.id in vetted:
            continue
        assert source.supports, f"{source.id}: not in the vetted bibliography, so it must list what it supports"
        assert source.notes and "Seen on" in source.notes, f"{source.id}: say which stored page it was seen on"
        assert source.link, f"{source.id}: readers need a link"


def test_every_url_is_the_page_the_source_was_vetted_on(shipped):
    if not VETTED.exists():
        pytest.skip("shared/evidence is not beside this checkout")
    seen = {s["id"]: s.get("url_seen") for s in yaml.safe_load(VETTED.read_text(encoding="utf-8"))}
    vetted = _vetted_elsewhere(shipped)
    assert {s.id: s.url for s in shipped.sources.values()
            if s.id in vetted and s.url and s.url != seen.get(s.id)} == {}


def test_every_entry_cites_a_source(shipped):
    for entry in shipped.entries.values():
        assert entry.sources, f"{entry.id} cites nothing"


def test_shipped_knowledge_validates():
    _, problems = validate_paths([KNOWLEDGE])
    assert [str(p) for p in problems] == []


def test_the_riskiest_topics_carry_safety_notes(shipped):
    entries = shipped.entries
    assert "injections" in entries["fillers-sculptra"].tags
    for entry_id in ("fat-grafting-bbl", "fillers-sculptra", "protein-intake", "calorie-surplus-muscle",
                     "hip-thrust"):
        assert entries[entry_id].safety, entry_id
    assert "call emergency services" in entries["fat-grafting-bbl"].safety


def test_entries_citing_the_same_studies_share_a_grade(shipped):
    # The audit found hip-thrust 'moderate' and squats-vs-hip-thrusts 'limited' on the same two studies.
    grades: dict[frozenset, set] = {}
    for entry in shipped.entries.values():
        grades.setdefault(frozenset(entry.sources), set()).add(entry.evidence)
    assert {tuple(sorted(ids)): g for ids, g in grades.items() if len(g) > 1} == {}


def test_shipped_base_loads(shipped):
    assert len(shipped.sources) >= 1
    assert Path(KNOWLEDGE / "sources.yaml").exists()
