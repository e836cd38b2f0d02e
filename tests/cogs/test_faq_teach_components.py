"""The teach and untrain components on their own: custom_ids within Discord's limit and free of members'
words, selects within Discord's 25 options, and the new-entry form with what an entry can take."""

from bot.cogs.faq.teach import TeachSelect, UntrainSelect, new_entry_draft
from bot.engine.gaps import Gap
from bot.faq.teaching import Candidate, phrasing_key

LONGEST_ID = "a" * 64


def test_custom_ids_fit_and_carry_no_members_words():
    gap = Gap("https://evil.example/x how do i melt fat " * 20, 3, ("melt fat fast",), "spot-reduction")
    select = TeachSelect.of(365, gap, (Candidate(LONGEST_ID, "T" * 300, "server"),))
    untrain = UntrainSelect.of(LONGEST_ID, ("melt fat fast",))
    for custom_id in (select.custom_id, untrain.custom_id):
        assert len(custom_id) <= 100 and "melt" not in custom_id and "evil" not in custom_id
    assert all(len(option.label) <= 100 and len(option.description or "") <= 100 for option in select.item.options)
    assert len(select.item.placeholder or "") <= 150


def test_untrain_offers_all_and_at_most_24_phrasings():
    taught = tuple(f"question number {n}" for n in range(40))
    select = UntrainSelect.of("spot-reduction", taught).item
    assert len(select.options) == 25 and select.max_values == 25
    assert select.options[0].value == "+all" and select.options[0].label == "All 40 taught here"
    assert [option.value for option in select.options[1:]] == [phrasing_key(text) for text in taught[:24]]


def test_the_new_entry_form_gets_the_questions_an_entry_can_take():
    long = "why " * 100  # 400 characters: more than a phrasing may have
    gap = Gap("can side bends melt love handles", 4, (long, "side bends for love handles"))
    questions = new_entry_draft(gap).questions.splitlines()
    assert questions == ["can side bends melt love handles", "side bends for love handles"]
