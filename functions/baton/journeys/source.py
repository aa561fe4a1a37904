"""Read one YAML file of the catalog keeping where every key is, so errors can name file and line.

The loader is PyYAML's safe loader read the way YAML 1.2 (and editors) read it: `18:00` is a
string, not the sexagesimal number 1080; dates stay strings (the models parse the fields that
are dates); only true/false are booleans (`no` is a string, the "Norway problem"). A key given
twice in one mapping is an error instead of the last one silently winning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from baton.journeys.conditions import CONDITION_TAGS

Loc = Sequence[str | int]


class CatalogLoader(yaml.SafeLoader):
    """Safe loading with YAML 1.2 scalars (see the module docstring)."""


_DROPPED = {
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:timestamp",
}
CatalogLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
CatalogLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
CatalogLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
CatalogLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
        r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class SourceError(Exception):
    """The file is not YAML at all; `line` is 1-based."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"{line}: {message}")


@dataclass(frozen=True)
class Source:
    """One parsed file: its data and the node tree that knows each key's line."""

    path: Path
    data: Any
    root: Node | None

    def line(self, loc: Loc) -> int:
        """The 1-based line of the deepest key of `loc` present in the file (a missing key: its parent)."""
        return self.locate(loc)[0]

    def locate(self, loc: Loc) -> tuple[int, ScalarNode | None]:
        """(line, the scalar node at `loc` if it is a scalar): the node lets callers point inside a string."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else 1
        for part in loc:
            if part in CONDITION_TAGS:
                continue
            if isinstance(node, MappingNode) and isinstance(part, str):
                pair = next((pair for pair in node.value if _is_key(pair[0], part)), None)
                if pair is None:
                    return line, None
                line, node = pair[0].start_mark.line + 1, pair[1]
            elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line, None
        return line, node if isinstance(node, ScalarNode) else None

    def duplicate_keys(self) -> Iterator[tuple[list[str | int], int]]:
        """(loc, line) of every key given a second time in the same mapping."""
        yield from _duplicates(self.root, [])


def read_source(path: Path) -> Source:
    """Parse `path`; raises SourceError (with the line) when it is not YAML, OSError when unreadable."""
    text = path.read_text(encoding="utf-8")
    loader = CatalogLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        if exc.problem == "mapping values are not allowed here":
            problem += " (put a value that contains ': ' in quotes)"
        raise SourceError(line, f"not valid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise SourceError(1, f"not valid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return Source(path, data, root)


def format_key(loc: Loc) -> str:
    """`("steps", 3, "send", "channels")` -> `steps[3].send.channels` (condition tags left out)."""
    text = ""
    for part in loc:
        if part in CONDITION_TAGS or part == "[key]":
            continue
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def string_start_line(node: ScalarNode) -> int:
    """The 1-based line of a string's first character (a `|` or `>` block starts on the next line)."""
    return node.start_mark.line + 1 + (1 if node.style in ("|", ">") else 0)


def _is_key(node: Node, name: str) -> bool:
    return isinstance(node, ScalarNode) and node.value == name


def _duplicates(node: Node | None, loc: list[str | int]) -> Iterator[tuple[list[str | int], int]]:
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name is not None and name in seen:
                yield [*loc, name], key.start_mark.line + 1
            if name is not None:
                seen.add(name)
            yield from _duplicates(value, [*loc, name] if name is not None else loc)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, [*loc, index])
