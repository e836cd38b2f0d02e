import pytest

from bot.engine import yamlsafe
from bot.engine.yamlsafe import MAX_FILE_BYTES, YamlRefused, parse_yaml


def refusal(text: str) -> YamlRefused:
    with pytest.raises(YamlRefused) as info:
        parse_yaml(text)
    return info.value


def test_records_the_line_of_every_value():
    parsed = parse_yaml("myths:\n  - id: a\n    questions:\n      - one\n      - two\n")
    assert parsed.data == {"myths": [{"id": "a", "questions": ["one", "two"]}]}
    assert parsed.line_of(("myths", 0, "id")) == 2
    assert parsed.line_of(("myths", 0, "questions", 1)) == 5
    assert parsed.line_of(("myths", 0, "missing_field")) == 2  # falls back to the entry


def test_python_tags_are_refused_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    error = refusal(f"a: !!python/object/apply:os.system ['touch {marker}']\n")
    assert "unsupported YAML tag" in error.message and error.line == 1
    assert not marker.exists()


def test_custom_tags_are_refused():
    assert "unsupported YAML tag '!secret'" in refusal("x: 1\ny: !secret value\n").message


def test_alias_bomb_is_refused_before_it_is_expanded(monkeypatch):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]")
    built = []
    build = yamlsafe._Builder.build
    monkeypatch.setattr(yamlsafe._Builder, "build", lambda self, *args: built.append(1) or build(self, *args))
    error = refusal("\n".join(lines))
    assert "too many YAML nodes" in error.message
    assert len(built) <= 10 * len(lines)  # the file's own nodes at most, not the 9**10 it expands to


def test_recursive_and_shared_anchors():
    assert "refers to a node it is inside" in refusal("a: &a [1, *a]\n").message
    assert parse_yaml("a: &a [1]\nb: [*a, *a]\n").data == {"a": [1], "b": [[1], [1]]}


def test_oversized_text_is_refused_before_parsing():
    error = refusal("x: " + "a" * MAX_FILE_BYTES)
    assert "limit" in error.message


def test_duplicate_keys_name_both_lines():
    error = refusal("id: a\ntitle: b\nid: c\n")
    assert error.line == 3 and "duplicate key 'id' (first at line 1)" in error.message


def test_syntax_error_has_its_line():
    error = refusal("myths:\n  - id: a\n    title: [unclosed\n    answer: x\n")
    assert error.message.startswith("YAML syntax error") and error.line >= 3


def test_merge_keys_and_several_documents_are_refused():
    assert "merge keys" in refusal("base: &b {x: 1}\nother:\n  <<: *b\n").message
    assert refusal("a: 1\n---\nb: 2\n").line == 3


def test_empty_document_is_no_data():
    assert parse_yaml("# only a comment\n").data is None


@pytest.mark.parametrize(("value", "message"), [
    ("2025-02-30T10:00:00Z", "invalid date '2025-02-30T10:00:00Z' (day is out of range for month)"),
    ("2025-13-01", "invalid date '2025-13-01' (month must be in 1..12)"),
    ("!!timestamp soon", "invalid date 'soon'"),
    ("!!int foo", "invalid integer 'foo'"),
    ("!!bool maybe", "invalid true/false value 'maybe'"),
    ("!!float foo", "invalid number 'foo'"),
    ("1" * 5000, "invalid integer '1111111111"),
])
def test_impossible_typed_values_are_refused_with_their_line(value, message):
    error = refusal(f"title: ok\ncreated_at: {value}\n")
    assert error.line == 2
    assert message in error.message
    assert len(error.message) < 300  # a 5,000-digit number is not echoed in full


def test_an_impossible_value_as_a_key_is_refused_too():
    assert refusal("a: 1\n2025-02-30: x\n").line == 2
