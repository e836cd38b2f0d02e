"""Parse untrusted YAML into plain data, remembering the line of every value.

Only the YAML core types are built (mappings, sequences, strings, numbers, booleans, null and
timestamps); any other tag is reported, never constructed. Sizes are bounded before and during
parsing, so an oversized file or an alias bomb is refused at once instead of eating memory.
"""

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path as FilePath

import yaml

try:  # the C parser is several times faster; the pure-Python one behaves the same
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 200_000
MAX_DEPTH = 40

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a knowledge file, located by file and 1-based line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ParsedYaml:
    data: object
    lines: dict[Path, int] = field(default_factory=dict)

    def line_of(self, path: Path) -> int:
        """The line of the deepest known node on `path` (errors may point below what exists)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


class YamlRefused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


_KINDS = {"int": "integer", "float": "number", "bool": "true/false value", "timestamp": "date"}
_SHOWN_CHARS = 40
_RESOLVER = yaml.resolver.Resolver()


def _invalid_scalar(node: yaml.ScalarNode, exc: Exception) -> str:
    """What is wrong with a value PyYAML could not construct (impossible date, '!!int foo', ...)."""
    kind = _KINDS.get(node.tag.removeprefix(_CORE), "value")
    shown = repr(node.value)
    if len(node.value) > _SHOWN_CHARS:
        shown = f"{node.value[:_SHOWN_CHARS]!r}... ({len(node.value):,} characters)"
    reason = str(exc) if isinstance(exc, ValueError) and kind == "date" else ""
    resolved = _RESOLVER.resolve(yaml.ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
    implicit = not node.style and resolved == node.tag
    hint = "; quote it if it is meant as text" if implicit else ""
    return f"invalid {kind} {shown}" + (f" ({reason})" if reason else "") + hint


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _refuse_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases would expand past `MAX_NODES`, before building any of it.

    An alias is the same node object in several places, so each distinct node's expanded size is
    counted once (bottom-up, without recursion: nesting may be deep), linear in the file's size.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done:
            if id(node) in open_nodes:
                raise YamlRefused(node.start_mark.line + 1, "an alias refers to a node it is inside of")
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(id(node))
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > MAX_NODES:
            raise YamlRefused(node.start_mark.line + 1, f"too many YAML nodes (over {MAX_NODES}); "
                              "aliases that expand exponentially are refused")
        sizes[id(node)] = size


def read_limited(path: FilePath, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at `path`, reading at most `limit` + 1 of them.

    Raises `YamlRefused` (line 1) for a device, a pipe or a directory, which are never read (a pipe
    is not even waited on), and for a file over `limit` bytes; `OSError` when it cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise YamlRefused(1, "not a regular file (a device, pipe or directory is never read)")
        if info.st_size > limit:
            raise YamlRefused(1, f"file is {info.st_size:,} bytes; the limit is {limit:,}")
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := os.read(fd, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while we read
            raise YamlRefused(1, f"file is over {limit:,} bytes; the limit is {limit:,}")
        return b"".join(chunks)
    finally:
        os.close(fd)


class _Builder:
    def __init__(self) -> None:
        self.lines: dict[Path, int] = {}
        self.nodes = 0
        self.scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path, depth: int) -> object:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise YamlRefused(node.start_mark.line + 1, f"too many YAML nodes (over {MAX_NODES}); "
                              "aliases that expand exponentially are refused")
        if depth > MAX_DEPTH:
            raise YamlRefused(node.start_mark.line + 1, f"nesting deeper than {MAX_DEPTH} levels")
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode) and node.tag == f"{_CORE}map":
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode) and node.tag == f"{_CORE}seq":
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode) and node.tag in _SCALAR_TAGS:
            return self._scalar(node)
        raise YamlRefused(node.start_mark.line + 1, f"unsupported YAML tag {node.tag!r} (only plain data is allowed)")

    def _scalar(self, node: yaml.ScalarNode) -> object:
        try:
            return self.scalars.construct_object(node)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, yaml.YAMLError) as exc:
            raise YamlRefused(node.start_mark.line + 1, _invalid_scalar(node, exc)) from None
        finally:
            self.scalars.constructed_objects.pop(node, None)  # PyYAML caches every node; we need none

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[object, object]:
        result: dict[object, object] = {}
        first_line: dict[object, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == f"{_CORE}merge":
                raise YamlRefused(line, "merge keys ('<<') are not supported; write the fields out")
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                raise YamlRefused(line, "mapping keys must be plain scalars")
            key = self._scalar(key_node)
            if key in result:
                raise YamlRefused(line, f"duplicate key {key!r} (first at line {first_line[key]})")
            first_line[key] = line
            step = key if isinstance(key, str | int) else str(key)
            result[key] = self.build(value_node, (*path, step), depth + 1)
        return result


def parse_yaml(text: str | bytes) -> ParsedYaml:
    """Parse one YAML document. Raises `YamlRefused` with a line for anything unsafe or malformed."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > MAX_FILE_BYTES:
        raise YamlRefused(1, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise YamlRefused(line, f"file is not valid UTF-8 text (byte {exc.start})") from None
    try:
        documents = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlRefused(line, f"YAML syntax error: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlRefused(1, f"YAML error: {exc}") from None
    if len(documents) > 1:
        raise YamlRefused(documents[1].start_mark.line + 1, "only one YAML document per file")
    if not documents or documents[0] is None:
        return ParsedYaml(data=None)
    _refuse_expansion(documents[0])
    builder = _Builder()
    data = builder.build(documents[0], (), 0)
    return ParsedYaml(data=data, lines=builder.lines)
