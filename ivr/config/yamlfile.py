"""Reading one YAML file into plain data plus a map from key paths to line numbers.

The line map lets every configuration problem point the operator at the exact line."""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Iterable

import yaml

from ivr.config.errors import ConfigError


@dataclass
class YamlDoc:
    """Parsed YAML plus where each key path sits; collects problems while it is validated."""

    file: str
    data: Any
    lines: dict[str, int]
    errors: list[ConfigError] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.errors.append(ConfigError(self.file, path, message, self.line_of(path)))

    def unknown_keys(self, path: str, mapping: dict, allowed: Iterable[str]) -> None:
        """One problem per key not in `allowed`, with the likely meant key when one is close
        (a typo like "closure" for "closures" is the usual cause)."""
        allowed = sorted(allowed)
        for key in mapping:
            if key in allowed:
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.problem(join(path, str(key)), f"unknown key {key!r}{hint}; expected one of {', '.join(allowed)}")

    def line_of(self, path: str) -> int | None:
        # fall back to the nearest enclosing key that has a known line
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _parent(path)
        return None


# -- typed access, shared by the loaders ------------------------------------------------------
# YAML hands over whatever was typed: a list where a name was meant, a number where text was
# meant, nothing where a key was left blank. Every value is checked with these (or an isinstance
# test of the same kind) before it is used, so a wrong type is a problem, never a TypeError.

def describe(value: Any) -> str:
    """What a value is, in the operator's words: "a list", "text", "yes/no", "a date"..."""
    if value is None:
        return "nothing"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    return {dict: "a mapping", list: "a list", str: "text", bool: "yes/no", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def shown(value: Any) -> str:
    """A value as the operator typed it: text quoted, a date as YYYY-MM-DD (not datetime.date(...))."""
    return str(value) if isinstance(value, dt.date) else repr(value)


def is_not(value: Any, what: str) -> str:
    """The start of a message about a bad value; a key left out reads "is missing", not "None"."""
    return "is missing" if value is None else f"{shown(value)} is not {what}"


def check_text(doc: YamlDoc, path: str, value: Any, *, required: bool = True) -> str | None:
    """`value` stripped when it is non-empty text; otherwise one problem and None."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        doc.problem(path, f"{is_not(value, 'text')}; expected a non-empty string")
        return None
    return value.strip()


def among(value: Any, choices: Collection[Any]) -> bool:
    """`value in choices`, and False for a value that cannot be looked up at all: `[main] in
    nodes` raises TypeError (a list is unhashable) where the operator needs "not a node"."""
    try:
        return value in choices
    except TypeError:
        return False


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


MAX_FILE_BYTES = 1024 * 1024  # the largest data or prompts file read; today's are a few KB


def read_yaml(path: Path, label: str) -> YamlDoc:
    """Parse `path`; syntax errors become one ConfigError naming the line, never a traceback."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            # Refused before reading: a huge file would take a reload past its time limit, and
            # no directory, menu or prompt file comes anywhere near this size.
            doc = YamlDoc(label, None, {})
            doc.problem("", f"is {size:,} bytes, over the limit of {MAX_FILE_BYTES:,} bytes (1 MB) for a "
                            f"data or prompts file; expected a smaller file (a file copied in by mistake?)")
            return doc
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        doc = YamlDoc(label, None, {})
        doc.problem("", f"cannot be read ({exc.strerror or exc}); expected a readable YAML file")
        return doc
    except UnicodeDecodeError:
        doc = YamlDoc(label, None, {})
        doc.problem("", "is not UTF-8 text; expected a YAML file saved as UTF-8")
        return doc
    shared = _first_alias(text)
    if shared is not None:
        doc = YamlDoc(label, None, {})
        doc.errors.append(ConfigError(label, *shared))
        return doc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        hint = "; expected well-formed YAML (check the indentation; quote text holding \": \" or \" #\")"
        return _unreadable(label, f"is not valid YAML: {what}{hint}", line)
    except RecursionError:
        return _unreadable(label, f"nests lists or mappings deeper than can be read; expected at most "
                                  f"a few levels", None)
    lines: dict[str, int] = {}
    if node is not None:
        _index(node, "", lines)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # a tag such as !foo, a list as a key: well-formed, yet no data
        mark = getattr(exc, "problem_mark", None)
        return _not_data(label, getattr(exc, "problem", None) or str(exc),
                         mark.line + 1 if mark is not None else None)
    except ValueError as exc:  # PyYAML builds dates with datetime: 2026-02-30 raises here
        path, value = _bad_timestamp(node)
        if not value:  # a number thousands of digits long, which Python will not convert
            return _not_data(label, str(exc), None)
        doc = YamlDoc(label, None, lines)
        doc.problem(path, f"{value!r} is not a date that exists ({exc}); expected a real date YYYY-MM-DD")
        return doc
    return YamlDoc(label, data, lines)


# libyaml's parser where PyYAML was built with it: the scan below reads every event of the file
_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _first_alias(text: str) -> tuple[str, str, int] | None:
    """(key path, message, line) of the first YAML alias (`*name`) in `text`, or else of the
    first anchor (`&name`); None when there is neither.

    The operators' files need neither, and an alias is how a small file becomes a huge value
    (nested aliases, a "billion laughs"): refused before anything is built from the file.
    Syntax errors are left to the full parse, which names them better."""
    anchor: tuple[str, str, int] | None = None
    frames: list[list] = []  # [path, next index] for a list; [path, key or None] for a mapping
    try:
        for event in yaml.parse(text, Loader=_EVENT_LOADER):
            if isinstance(event, (yaml.DocumentStartEvent, yaml.DocumentEndEvent,
                                  yaml.StreamStartEvent, yaml.StreamEndEvent)):
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frames.pop()
                _done(frames)
                continue
            path, is_key = _path_of(frames)
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                return path, (f"uses a YAML alias (*{event.anchor}); aliases are not allowed in this "
                              f"file, write the value out"), line
            if event.anchor is not None and anchor is None:
                anchor = path, (f"defines a YAML anchor (&{event.anchor}); anchors and aliases are not "
                                f"allowed in this file, write the value out"), line
            if isinstance(event, yaml.ScalarEvent):
                if is_key:
                    frames[-1][1] = event.value
                else:
                    _done(frames)
            elif isinstance(event, yaml.MappingStartEvent):
                frames.append([path, None])
            elif isinstance(event, yaml.SequenceStartEvent):
                frames.append([path, 0])
    except yaml.YAMLError:
        return None
    return anchor


def _path_of(frames: list[list]) -> tuple[str, bool]:
    """The key path of the node that comes next, and whether it is a mapping's key."""
    if not frames:
        return "", False
    path, position = frames[-1]
    if isinstance(position, int):
        return join(path, position), False
    if position is None:
        return path, True
    return join(path, str(position)), False


def _done(frames: list[list]) -> None:
    """A node is complete: a list moves to its next index; a mapping, after a value, expects
    its next key, and after a key that is itself a list or mapping (rare), that key's value."""
    if frames:
        position = frames[-1][1]
        frames[-1][1] = position + 1 if isinstance(position, int) else "?" if position is None else None


def _unreadable(label: str, message: str, line: int | None) -> YamlDoc:
    doc = YamlDoc(label, None, {})
    doc.errors.append(ConfigError(label, "", message, line))
    return doc


def _not_data(label: str, what: str, line: int | None) -> YamlDoc:
    return _unreadable(label, f"holds a value YAML cannot turn into data ({what}); expected text, "
                              "numbers, true/false, dates, lists and mappings with text keys", line)


def _bad_timestamp(node: yaml.Node | None, path: str = "") -> tuple[str, str]:
    """The key path and text of the first timestamp that PyYAML cannot turn into a date."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
        try:
            yaml.SafeLoader.construct_yaml_timestamp(yaml.SafeLoader(""), node)
        except ValueError:
            return path, node.value
    children: list[tuple[str, yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        children = [(join(path, str(key.value)), value) for key, value in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = [(join(path, i), item) for i, item in enumerate(node.value)]
    for child_path, child in children:
        found = _bad_timestamp(child, child_path)
        if found[0] or found[1]:
            return found
    return "", ""


def _index(node: yaml.Node, path: str, out: dict[str, int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = join(path, str(key_node.value))
            out[child] = key_node.start_mark.line + 1
            _index(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = join(path, i)
            out[child] = item.start_mark.line + 1
            _index(item, child, out)
