"""The command-line contract, through a real subprocess as other tools use it."""

import json
import os
import subprocess
import sys

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
    out = mythbot("match", "--json", "--knowledge", str(FIXTURE_KB), stdin="\n".join(questions) + "\n")
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


def test_eval_prints_the_figures(tmp_path):
    labelled = tmp_path / "eval.yaml"
    labelled.write_text("questions:\n  - {q: will squats fix my hip dips, expect: squats-hip-dips}\n"
                        "  - {q: best running shoes, expect: none}\n")
    out = mythbot("eval", str(labelled), "--knowledge", str(FIXTURE_KB))
    assert out.returncode == 0
    assert "accuracy (right answer, or silence off topic): 100.0%" in out.stdout
    assert "wrong answers: 0.0%" in out.stdout and "off-topic answered: 0.0%" in out.stdout


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
