"""What moderators read on the /faq suggestions board: members' words shown as typed, never as live links."""

from bot.cogs.faq.suggest import proposal_line
from bot.faq.suggestions import Proposal


def test_links_members_planted_are_not_clickable_on_the_board():
    planted = "see [official NIH study](https://ev.il/d) or discord.gg/abc **now**"
    line = proposal_line(1, Proposal("spot-reduction", "Spot?", planted, (1,), ("pick",), 1))
    assert "://" not in line.replace("hxxps://", "") and "discord[.]gg/abc" in line
    assert "\\[official NIH study\\](hxxps://ev.il/d)" in line and "\\*\\*now\\*\\*" in line
