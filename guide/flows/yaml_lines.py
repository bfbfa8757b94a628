"""Load YAML keeping the line of every mapping, so content errors can name file and line."""

from __future__ import annotations

import re
from pathlib import Path

import yaml


class ContentIssue(Exception):
    """One problem in one content file, at one line."""

    def __init__(self, path: Path | str, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


class ContentError(Exception):
    """Content that must not be served: every issue found, each with file and line."""

    def __init__(self, issues: list[ContentIssue]):
        self.issues = issues
        super().__init__(
            f"{len(issues)} problem(s) in content:\n" + "\n".join(f"  {i}" for i in issues)
        )


class Located(dict):
    """A mapping that remembers where it was written: `.line` and the line of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps `yes`, `no`, `on`, `off` as strings: answers are words here."""


_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    result = Located()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result:
            raise ContentIssue(loader.name, key_node.start_mark.line + 1, f"duplicate key '{key}'")
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_utf8(path: Path) -> str:
    """A content file's text; a byte that is not UTF-8 becomes a ContentIssue naming file and line."""
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContentIssue(path, line, f"not UTF-8: byte 0x{data[exc.start]:02x} at column {exc.start - line_start + 1} "
                                       "(save the file as UTF-8)") from None


def load_yaml(path: Path):
    """Parse one YAML file; a syntax error becomes a ContentIssue naming file and line."""
    text = read_utf8(path)
    loader = _LineLoader(text)
    loader.name = str(path)
    try:
        return loader.get_single_data()
    except ContentIssue:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ContentIssue(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ContentIssue(path, None, f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
