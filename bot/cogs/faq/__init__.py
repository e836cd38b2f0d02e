"""`/faq`: moderators keep this server's FAQ from inside Discord.

- `commands.py`: the slash commands (a GroupCog); each asks the service and draws the result.
- `views.py`: replies, the entry card, list pages, the gaps report, the remove confirmation buttons.
- `form.py`: the add/edit modal, Fix and resubmit, and forms submitted after a restart.
- `teach.py`: teaching from the gaps report (its selects) and `/faq untrain` (`bot.faq.teaching`).
- `access.py`: who may moderate, and how buttons and forms reach the service.
- `suggest.py`: members' suggestions (heard from the answering cog and buttons) and `/faq suggestions`.

What the commands do needs no Discord types and lives in `bot.faq.service` (a command line could call
it too); the form's parsing is `bot.faq.drafts`; every rule about changes is the store's
(`bot.storage.operations`). A new subcommand: a method on `FaqService` returning a plain result, a
`@app_commands.command` in `commands.py` that calls it, and its drawing in `views.py` if it needs one.
"""

from bot.cogs.faq.commands import FaqCommands
from bot.cogs.faq.suggest import SuggestionListener
from bot.discord_app import MythBot
from bot.faq.service import FaqService


async def setup(bot: MythBot) -> None:
    service = FaqService(lambda: bot.engine, bot.faq, bot.records, bot.workers, bot.reload_knowledge)
    await bot.add_cog(FaqCommands(bot, service, bot.settings.moderator_role_ids))
    await bot.add_cog(SuggestionListener(bot))
