"""The FAQ's moderator side without Discord: `drafts` reads the five-field form into an `Entry`,
`service` holds the actions behind `/faq` over the storage interfaces (the Discord cog in
`bot/cogs/faq/` draws what they return; a command line could call them too)."""
