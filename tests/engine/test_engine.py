from bot.engine.render import as_text


def test_exercise_lookup_by_name_alias_and_typo(fixture_engine):
    assert fixture_engine.find_exercise("clamshell").id == "clamshell"
    assert fixture_engine.find_exercise("clams").id == "clamshell"
    assert fixture_engine.find_exercise("hip thrusts").id == "hip-thrust"
    assert fixture_engine.find_exercise("hipthurst").id == "hip-thrust"
    assert fixture_engine.find_exercise("bench press") is None


def test_exercise_choices_rank_and_limit(fixture_engine):
    choices = fixture_engine.exercise_choices("clam", limit=1)
    assert [c.entry for c in choices] == ["clamshell"]
    assert len(fixture_engine.exercise_choices("", limit=25)) == 2


def test_views_carry_sources_as_links_and_related_titles(fixture_engine):
    view = fixture_engine.view("spot-reduction")
    assert view.verdict_label.endswith("Myth")
    assert view.sources[0].link == "https://doi.org/10.1519/JSC.0b013e3181fb4a46"
    assert view.sources[0].citation.startswith("Vispute SS, Smith JD, LeCheminant JD et al. (2011).")
    assert view.related == (("clamshell", "Clamshell"),)
    pubmed = fixture_engine.view("protein-intake").sources[0]
    assert pubmed.link == "https://pubmed.ncbi.nlm.nih.gov/28698222/"


def test_exercise_text_has_steps_and_evidence(fixture_engine):
    text = as_text(fixture_engine.view("clamshell"))
    assert "1. Lie on your side" in text and "activation is not growth" in text


def test_terminal_text_drops_discord_bold_markers(fixture_engine):
    from dataclasses import replace

    view = replace(fixture_engine.view("spot-reduction"), body="**No.** Training a muscle does not burn fat.")
    assert "No. Training a muscle" in as_text(view) and "**" not in as_text(view)
