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
