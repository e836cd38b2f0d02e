"""Where a server's entries and the bot's records live.

The rest of the bot sees two protocols (`base.py`) and one error type, `StorageError`, whose text
can be shown to a moderator as it is.

- `base.py`: `FaqStore`, `RecordStore`, the errors (`ChangeRefused`, `Conflict`, `SaveFailed`,
  `RecordFailed`), `Actor`, `Change`, `Revision`, `GuildState`, `revision_of`.
- `operations.py`: every change as a pure `Operation`, and `run_checked`, the checks against the
  curated base before any save. Both backends call it, so a rule lives here once.
- `factory.py`: `open_storage(data_dir, database_url, base)`: files when there is no URL,
  PostgreSQL for `postgresql://`.
- `file_backend.py`: the default. `FileFaqStore` over `GuildStore` (YAML per server,
  `guild_store.py`), `FileRecordStore` over SQLite (`records.py`), one thread for every SQLite call.
- `postgres/store.py`: `PgFaqStore`, `PgRecordStore`, `listen()`; the schema is
  `postgres/migrations/*.sql`.
- `transfer.py`, `db_commands.py`: `mythbot db upgrade`, `db import --from DIR`, `db export --to DIR`.

A change, on either backend: `await faq.apply(guild_id, operation)` takes the server's lock (a file
lock, or `SELECT ... FOR UPDATE` on `guild_versions`), reads the server's current content from
storage, runs the operation, checks the result (`run_checked`), saves it atomically, and only then
updates memory. Operations: `add_entry_op(entry, actor)`, `edit_entry_op(entry_id, entry, actor,
expected_revision)`, `remove_entry`, `restore_entry`, `hide_entry`, `unhide_entry`,
`train(entry_id, phrasings, actor)`, `untrain(...)`. Entries arrive complete and validated: storage only
stores (the Discord form's parsing is `bot.faq.drafts`). A form remembers `revision_of(entry)` when it
opens; if the stored entry differs when it is saved, the edit raises `Conflict` (with the stored entry
as `current`) and saves nothing.

Reads for answering (`scope_for`, `state`) are in memory; `guild_ids()` reads from storage every
server that saved something of its own. Another process's change shows after `refresh(guild_id)`;
with PostgreSQL, `PgFaqStore.listen(callback)` calls back with the server id of every committed change
(and, after a lost connection, of every server that changed meanwhile).

What is stored:
- Files: `<data>/guilds/<id>.yaml` (entries, `hidden:`, `trained: {entry_id: [phrasings]}`),
  `<id>.history.jsonl` (every saved version of an entry, one JSON object per line), backups `.1`
  to `.3`; `<data>/mythbot.sqlite3` (audit, unanswered, feedback, decisions, suggestions).
- PostgreSQL: `guild_entries` (JSONB), `entry_history`, `guild_hidden`, `guild_trained`,
  `guild_versions` (bumped by a trigger), and the same five records tables, column for column.

A new backend: implement both protocols, call `run_checked` for every write, add a `params` value
to the `backend` fixture in `tests/storage/test_contract.py`, and make that suite pass.
"""
