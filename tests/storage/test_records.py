import sqlite3
import threading

from bot.storage.records import Records


def test_unanswered_questions_are_kept_per_guild(tmp_path):
    records = Records(tmp_path / "data" / "mythbot.sqlite3")
    records.record_unanswered(1, 10, "is creatine safe", "protein-intake", 40.0)
    records.record_unanswered(2, 20, "best shoes")
    records.record_unanswered(None, None, "dm question")
    assert [u.question for u in records.unanswered(1)] == ["is creatine safe"]
    assert [u.question for u in records.unanswered(None)] == ["dm question"]
    assert records.unanswered(1)[0].best_entry == "protein-intake"


def test_one_vote_per_member_per_answer(tmp_path):
    records = Records(tmp_path / "r.sqlite3")
    assert records.record_feedback(1, message_id=100, user_id=7, entry_id="spot-reduction", helpful=True)
    assert not records.record_feedback(1, message_id=100, user_id=7, entry_id="spot-reduction", helpful=False)
    records.record_feedback(1, message_id=100, user_id=8, entry_id="spot-reduction", helpful=False)
    assert records.feedback_counts("spot-reduction") == (0, 2)


def test_records_survive_a_reopen_and_concurrent_writers(tmp_path):
    path = tmp_path / "r.sqlite3"
    records = Records(path)

    def write(n):
        for i in range(50):
            records.audit(5, n, f"mod{n}", "add", entry_id=f"entry-{n}-{i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records.close()
    assert len(Records(path).audit_log(5, limit=1000)) == 200


def test_a_data_dir_from_before_suggestions_kept_members_gains_the_column_and_keeps_its_rows(tmp_path):
    path = tmp_path / "r.sqlite3"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE suggestions (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, question TEXT NOT NULL,
            entry_id TEXT NOT NULL, source TEXT NOT NULL CHECK (source IN ('pick', 'reask')),
            created_at REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending');
        INSERT INTO suggestions (guild_id, question, entry_id, source, created_at)
            VALUES (1, 'wtf is a hipdip', 'squats-hip-dips', 'pick', 1.0);
    """)
    old.close()
    records = Records(path)
    records.record_suggestion(1, "belly fat crunches", "spot-reduction", "reask", member_id=7)
    assert [(s.question, s.member_id) for s in records.suggestions(1)] == [
        ("wtf is a hipdip", None), ("belly fat crunches", 7)]
    records.close()
    assert [s.member_id for s in Records(path).suggestions(1)] == [None, 7]  # opening again changes nothing
