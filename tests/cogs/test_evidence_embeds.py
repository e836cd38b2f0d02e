"""What members see of the evidence: short citations under an answer (full references behind the
Sources button) and the safety note right after the answer."""

from dataclasses import replace
from pathlib import Path

import pytest

from bot.cogs._ui import answer_embed, exercise_embed, source_lines, sources_embed
from bot.engine.knowledge import load_knowledge
from bot.engine.render import SourceView, cited_authors, entry_view, short_citation
from bot.engine.schema import Source
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def shipped():
    return load_knowledge(Path(PROJECT_ROOT / "knowledge"))


def fields_of(embed):
    return {field.name: field.value for field in embed.fields}


@pytest.mark.parametrize(("authors", "cited"), [
    ("Vispute SS, Smith JD, LeCheminant JD, Hurley KS", "Vispute et al."),
    ("Herrington L", "Herrington"),
    ("Pazmiño P, Garcia O Jr", "Pazmiño & Garcia"),
    ("Del Vecchio D, Kenkel JM", "Del Vecchio & Kenkel"),
    ("Lin MJ, et al.", "Lin et al."),
    ("MacAskill MJ, Durant TJS, Wallace DA", "MacAskill et al."),
    (None, None),
])
def test_authors_shorten_to_surnames(authors, cited):
    assert cited_authors(authors) == cited


def test_short_citation_names_authors_year_and_journal_abbreviation():
    plotkin = Source(id="p", title="Hip thrust and back squat training", authors="Plotkin DL, Rodas MA, Vigotsky AD",
                     journal="Frontiers in Physiology", journal_abbrev="Front Physiol", year=2023, design="rct")
    assert short_citation(plotkin) == "Plotkin et al. 2023, Front Physiol"
    assert short_citation(plotkin.model_copy(update={"journal_abbrev": None})) == \
        "Plotkin et al. 2023, Frontiers in Physiology"


def test_organisations_and_anonymous_works_are_named_briefly():
    aserf = Source(id="a", title="ASERF Outlines Recommendations to Increase Safety of Gluteal Fat Grafting Procedures",
                   authors="Aesthetic Surgery Education and Research Foundation (ASERF)", short_author="ASERF",
                   design="guideline")
    assert short_citation(aserf) == "ASERF, “ASERF Outlines Recommendations to Increase Safety…”"
    anonymous = Source(id="b", title="A review of the anatomy of the hip abductor muscles, gluteus medius",
                       journal="Clinical Anatomy", journal_abbrev="Clin Anat", year=2012, design="narrative-review")
    assert short_citation(anonymous) == "“A review of the anatomy of the hip abductor…” 2012, Clin Anat"


def test_the_answer_embed_links_short_citations_and_keeps_full_ones_behind_the_button(shipped):
    view = entry_view(shipped, shipped.entries["squats-hip-dips"])
    sources = fields_of(answer_embed(view))["Sources"]
    assert "• [Plotkin et al. 2023, Front Physiol](https://doi.org/10.3389/fphys.2023.1279170)" in sources.splitlines()
    assert "Hip thrust and back squat" not in sources
    full = sources_embed(view).description
    assert "Hip thrust and back squat training elicit similar gluteus muscle hypertrophy" in full


def test_the_exercise_embed_uses_short_citations_too(shipped):
    sources = fields_of(exercise_embed(entry_view(shipped, shipped.entries["hip-thrust"])))["Sources"]
    assert "[Contreras et al. 2015, J Appl Biomech](https://pubmed.ncbi.nlm.nih.gov/26214739/)" in sources


def test_too_many_sources_end_with_whole_lines_and_a_pointer_to_the_button(shipped):
    many = tuple(SourceView(f"s{i}", "c", f"https://doi.org/10.1000/{'x' * 80}{i}", f"Author{i} et al. 2020, J X")
                 for i in range(12))
    text = source_lines(replace(entry_view(shipped, shipped.entries["squats-hip-dips"]), sources=many))
    lines = text.splitlines()
    assert len(text) <= 1024 and lines[-1].startswith("…and ") and lines[-1].endswith("more under 📚 Sources")
    assert all(line.endswith(")") for line in lines[:-1])


def test_parentheses_in_a_link_do_not_break_the_markdown(shipped):
    source = SourceView("x", "c", "https://doi.org/10.1016/S0140-6736(20)30001-2", "Someone 2020, Lancet")
    view = replace(entry_view(shipped, shipped.entries["squats-hip-dips"]), sources=(source,))
    assert source_lines(view) == "• [Someone 2020, Lancet](https://doi.org/10.1016/S0140-6736%2820%2930001-2)"


def test_the_safety_note_comes_right_after_the_answer(shipped):
    embed = answer_embed(entry_view(shipped, shipped.entries["fillers-sculptra"]))
    assert [field.name for field in embed.fields][:3] == ["⚠️ Safety", "Verdict", "Evidence"]
    assert "emergency" in embed.fields[0].value
    exercise = exercise_embed(entry_view(shipped, shipped.entries["bulgarian-split-squat"]))
    assert exercise.fields[0].name == "⚠️ Safety" and "physiotherapist" in exercise.fields[0].value


def test_no_safety_field_without_a_note(shipped):
    embed = answer_embed(entry_view(shipped, shipped.entries["social-media-posing"]))
    assert "⚠️ Safety" not in fields_of(embed)
