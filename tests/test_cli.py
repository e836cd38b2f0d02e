"""The command-line contract, through a real subprocess as other tools use it."""

import json
import os
import resource
import subprocess
import sys

from bot.engine.normalize import MAX_INPUT_CHARS
from tests.conftest import FIXTURE_KB, PROJECT_ROOT


def mythbot(*args, stdin: str | None = None, env: dict | None = None, timeout: float = 60):
    full_env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN" and not k.startswith("MYTHBOT_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=PROJECT_ROOT)


def test_ask_json_has_the_contract_fields():
    out = mythbot("ask", "will squats fix my hip dips", "--json", "--knowledge", str(FIXTURE_KB))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["status"] == "answer" and data["entry"] == "squats-hip-dips"
    assert {"question", "score", "alternatives", "answer", "sources"} <= set(data)
    assert data["sources"][0]["link"].startswith("https://doi.org/")
    assert data["sources"][0]["short"] == "Vispute et al. 2011, Journal of Strength and Conditioning Research"
    assert data["sources"][0]["citation"].startswith("Vispute SS, Smith JD, LeCheminant JD et al. (2011).")


def test_ask_text_reads_like_an_answer():
    out = mythbot("--knowledge", str(FIXTURE_KB), "ask", "does spot reduction work")
    assert "Verdict: ❌ Myth" in out.stdout and "Sources:" in out.stdout
    assert ("  - Vispute et al. 2011, Journal of Strength and Conditioning Research: "
            "https://doi.org/10.1519/JSC.0b013e3181fb4a46") in out.stdout.splitlines()


def test_match_streams_one_object_per_line_in_order():
    questions = ["will squats fix my hip dips", "", "best creatine brand", "squats"]
    # The fixture's two squat entries are close; a wide margin makes "squats" a sure "did you mean".
    out = mythbot("match", "--json", "--knowledge", str(FIXTURE_KB), stdin="\n".join(questions) + "\n",
                  env={"MYTHBOT_MARGIN": "15"})
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["question"] for r in rows] == questions
    assert [r["status"] for r in rows] == ["answer", "none", "none", "clarify"]
    assert rows[1]["entry"] is None


def test_validate_ok_and_broken(tmp_path):
    assert mythbot("validate", "--knowledge", str(FIXTURE_KB)).returncode == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("myths:\n  - id: x\n    title: t\n    sorces: [a]\n")
    out = mythbot("validate", str(broken), "--knowledge", str(FIXTURE_KB))
    assert out.returncode == 1
    assert f"{broken}:4: myth 'x', field 'sorces': unknown field" in out.stdout
    assert f"{broken}:2: myth 'x', field 'answer': missing required field" in out.stdout


def test_validate_a_missing_path_fails():
    out = mythbot("validate", "no/such/dir")
    assert out.returncode == 1 and "no/such/dir:1: no such file or directory" in out.stdout


def test_export_json_lists_entries_and_sources():
    data = json.loads(mythbot("export", "--json", "--knowledge", str(FIXTURE_KB)).stdout)
    assert {e["id"] for e in data["myths"]} >= {"spot-reduction", "protein-intake"}
    assert [e["id"] for e in data["exercises"]] == ["clamshell", "hip-thrust"]
    assert any(s["link"] == "https://pubmed.ncbi.nlm.nih.gov/28698222/" for s in data["sources"])


def test_exercise_found_and_not_found():
    found = mythbot("exercise", "clams", "--json", "--knowledge", str(FIXTURE_KB))
    assert found.returncode == 0 and json.loads(found.stdout)["id"] == "clamshell"
    missing = mythbot("exercise", "bench press", "--knowledge", str(FIXTURE_KB))
    assert missing.returncode == 1 and "Did you mean" in missing.stdout


def test_run_without_token_or_terminal_exits_cleanly():
    out = mythbot(stdin="", env={"DISCORD_TOKEN": ""}, timeout=30)
    assert out.returncode == 0
    assert "No DISCORD_TOKEN" in out.stderr and "not a terminal" in out.stderr


def test_chat_answers_then_quits():
    out = mythbot("chat", "--knowledge", str(FIXTURE_KB), stdin="does spot reduction work\nquit\n")
    assert out.returncode == 0 and "Verdict: ❌ Myth" in out.stdout


def test_chat_follow_ups_continue_the_topic():
    out = mythbot("chat", "--knowledge", str(FIXTURE_KB),
                  stdin="does spot reduction work\nsources?\nwhat exercises then?\n")
    assert "https://doi.org/10.1519/JSC.0b013e3181fb4a46" in out.stdout
    assert "Exercises for this: Clamshell" in out.stdout


def test_a_broken_knowledge_dir_is_listed_and_exits_1(tmp_path):
    (tmp_path / "a.yaml").write_text("myths: [\n")
    out = mythbot("ask", "anything", "--knowledge", str(tmp_path))
    assert out.returncode == 1 and "YAML syntax error" in out.stderr and "nothing was loaded" in out.stderr


def test_bad_settings_name_the_variable_and_hide_the_token():
    out = mythbot("ask", "x", env={"DISCORD_TOKEN": "secret-token-value", "MYTHBOT_ANSWER_THRESHOLD": "lots"})
    assert out.returncode == 1 and "MYTHBOT_ANSWER_THRESHOLD" in out.stderr
    assert "secret-token-value" not in out.stderr + out.stdout


def test_eval_prints_the_figures_for_each_set_in_either_format(tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text("questions:\n  - {q: will squats fix my hip dips, expect: squats-hip-dips}\n"
                   "  - {q: best running shoes, expect: none}\n")
    shared = tmp_path / "real.yaml"
    shared.write_text("- text: how much protein should i eat\n  accept: [protein-intake]\n"
                      "- text: squats\n  accept: [squats-hip-dips, squats-glute-growth]\n  lenient: true\n"
                      "- text: best running shoes\n  off_topic: true\n")
    out = mythbot("eval", str(own), str(shared), "--cv", "--knowledge", str(FIXTURE_KB), "--data", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "direct right (clear questions):  100.0%  (1/1)" in out.stdout
    assert f"{shared}: 3 questions (1 clear and 1 vague on topic, 1 off topic)" in out.stdout
    assert f"{shared} (cross-validated)" in out.stdout
    assert "off-topic answered:                0.0%  (0/1)" in out.stdout
    rows = json.loads(mythbot("eval", str(shared), "--json", "--knowledge", str(FIXTURE_KB),
                              "--data", str(tmp_path)).stdout)
    assert rows[0]["direct_right"] == 100.0 and rows[0]["off_topic"] == 1


def test_eval_reports_a_bad_label_with_its_line(tmp_path):
    shared = tmp_path / "real.yaml"
    shared.write_text("- text: fine\n  accept: [protein-intake]\n- text: no label here\n")
    out = mythbot("eval", str(shared), "--knowledge", str(FIXTURE_KB), "--data", str(tmp_path))
    assert out.returncode == 1 and f"{shared}:3: question 1: needs 'accept' ids or 'off_topic: true'" in out.stderr


SHIPPED = str(PROJECT_ROOT / "knowledge")


def test_ask_json_carries_the_safety_note_or_null():
    bbl = json.loads(mythbot("ask", "is a bbl safe", "--json", "--knowledge", SHIPPED).stdout)
    assert bbl["entry"] == "fat-grafting-bbl" and "call emergency services" in bbl["safety"]
    plain = json.loads(mythbot("ask", "will squats fix my hip dips", "--json", "--knowledge", str(FIXTURE_KB)).stdout)
    assert "safety" in plain and plain["safety"] is None


def test_ask_and_chat_text_show_the_safety_note_under_the_answer():
    for out in (mythbot("ask", "is a bbl safe", "--knowledge", SHIPPED).stdout,
                mythbot("chat", "--knowledge", SHIPPED, stdin="is a bbl safe\nquit\n").stdout):
        safety = next(line for line in out.splitlines() if line.startswith("⚠️ SAFETY: "))
        assert "call emergency services" in safety
        assert out.index("⚠️ SAFETY") < out.index("Evidence:")


def test_an_impossible_date_is_a_problem_with_its_line_not_a_traceback(kb_copy):
    myths = kb_copy / "myths.yaml"
    anchor = "    sources: [vispute2011]\n"
    typo = "    stewardship:\n      created_at: 2025-02-30T10:00:00Z\n"
    myths.write_text(myths.read_text().replace(anchor, anchor + typo, 1))
    line = myths.read_text().splitlines().index("      created_at: 2025-02-30T10:00:00Z") + 1
    for args in (("validate", str(myths)), ("ask", "does spot reduction work")):
        out = mythbot(*args, "--knowledge", str(kb_copy))
        assert out.returncode == 1
        assert f"myths.yaml:{line}: invalid date '2025-02-30T10:00:00Z'" in out.stdout + out.stderr
        assert "Traceback" not in out.stderr


def _two_gigabytes_at_most():
    """A runaway read fails fast with MemoryError instead of taking the machine's memory."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def bounded(args: list[str], stdin: bytes = b"", env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command with a bounded wait and bounded memory; the output is bytes."""
    full_env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN" and not k.startswith("MYTHBOT_")}
    full_env.update(env or {})
    return subprocess.run(args, input=stdin, capture_output=True, timeout=30, env=full_env, cwd=PROJECT_ROOT,
                          preexec_fn=_two_gigabytes_at_most)


def test_validate_and_eval_refuse_devices_and_pipes_without_reading_them(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        out = bounded([sys.executable, "-m", "bot", "validate", path, "--knowledge", str(FIXTURE_KB)])
        assert out.returncode == 1
        assert f"{path}:1: not a regular file".encode() in out.stdout, out.stdout + out.stderr
        out = bounded([sys.executable, "-m", "bot", "eval", path, "--knowledge", str(FIXTURE_KB)])
        assert out.returncode == 1
        assert f"{path}:1: not a regular file".encode() in out.stderr, out.stderr
        assert b"Traceback" not in out.stderr


def test_validate_and_eval_refuse_an_oversized_file(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * 2_000_000 + b"\n")
    out = bounded([sys.executable, "-m", "bot", "eval", str(big), "--knowledge", str(FIXTURE_KB)])
    assert out.returncode == 1 and f"{big}:1: file is 2,000,003 bytes; the limit is 1,000,000".encode() in out.stderr


def test_a_guild_file_linked_to_dev_zero_falls_back_to_its_backup(tmp_path):
    data = tmp_path / "data"
    script = f"""
import asyncio
from pathlib import Path
from bot.engine.knowledge import load_knowledge
from bot.storage.guild_store import GuildStore
from tests.storage.conftest import ANA, GUILD, creatine_entry, myth

store = GuildStore({str(data)!r}, load_knowledge(Path({str(FIXTURE_KB)!r})))
kept = asyncio.run(store.add(GUILD, creatine_entry(), ANA)).entry_id
path = store.path(GUILD)
asyncio.run(store.add(GUILD, myth("Second", "second q"), ANA))
path.unlink()
path.symlink_to("/dev/zero")
restarted = GuildStore({str(data)!r}, store.base)
print([str(problem) for problem in restarted.load_all()])
assert list(restarted.state(GUILD).entries) == [kept], restarted.state(GUILD).entries
asyncio.run(restarted.add(GUILD, myth("Third", "third q"), ANA))
assert not path.is_symlink() and len(restarted.state(GUILD).entries) == 2
print("served the backup")
"""
    out = bounded([sys.executable, "-c", script])
    assert out.returncode == 0, out.stderr.decode()
    assert b"111.yaml:1: not a regular file" in out.stdout and b"served the backup" in out.stdout


def test_match_json_reads_any_bytes_and_echoes_long_lines_cut(tmp_path):
    lines = [b"will squats fix my hip dips", b"\xff\xfe squats \xc3\x28 \xed\xa0\x80 hip dips",
             b"hip dips " * 2_000_000, b"squats\r"]
    for env in ({"PYTHONIOENCODING": "utf-8"}, {"LC_ALL": "C.UTF-8"}, {"LC_ALL": "C", "PYTHONUTF8": "0"}):
        out = bounded([sys.executable, "-m", "bot", "match", "--json", "--knowledge", str(FIXTURE_KB)],
                      stdin=b"\n".join(lines) + b"\n", env=env)
        assert out.returncode == 0, (env, out.stderr[-2000:])
        rows = [json.loads(line) for line in out.stdout.decode("utf-8").splitlines()]  # strict: valid UTF-8
        assert len(rows) == 4, env
        assert rows[0]["status"] == "answer" and rows[3]["question"] == "squats"
        assert "\ufffd" in rows[1]["question"] and "squats" in rows[1]["question"]
        assert len(rows[2]["question"]) == MAX_INPUT_CHARS and rows[2]["question"].startswith("hip dips hip")
