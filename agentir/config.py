"""Settings: flag > AGENTIR_* environment > agentir.yaml > defaults; and where the store lives.

`agentir.yaml` is looked up in the current directory and its parents (the repository the
responder works in). It holds settings under top-level keys (`settings:`, `policy:`,
`alerts:`); each part of agentir reads the section it owns through `load_section`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from agentir.errors import ConfigError

CONFIG_NAME = "agentir.yaml"


def agentir_home() -> Path:
    """The incident store root: $AGENTIR_HOME, else the platform's user data directory."""
    env = os.environ.get("AGENTIR_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("agentir", appauthor=False))


def find_config(start: Path | None = None) -> Path | None:
    """The nearest agentir.yaml from `start` (default: cwd) upwards, or $AGENTIR_CONFIG."""
    env = os.environ.get("AGENTIR_CONFIG")
    if env:
        return Path(env).expanduser()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class YamlDoc:
    """A parsed YAML file with the line of each key path, for errors that point at the line."""

    path: Path
    data: Any
    lines: Mapping[tuple[str | int, ...], int]

    def line_of(self, *key_path: str | int) -> int | None:
        """The 1-based line of `key_path`, or of its nearest known parent."""
        path = tuple(key_path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def where(self, *key_path: str | int) -> str:
        """`file:line key.path` for an error message."""
        line = self.line_of(*key_path)
        dotted = ".".join(str(k) for k in key_path) or "(top level)"
        return f"{self.path}:{line or 1}: {dotted}"


def load_yaml(path: Path) -> YamlDoc:
    """Parse a YAML file safely, recording key lines. Raises ConfigError with file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"no such file: {path}", hint="check the path") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}", hint="is it a UTF-8 text file?") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{path}:{line}: invalid YAML: {problem}", hint="fix the syntax at that line"
        ) from exc
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return YamlDoc(path=path, data=data, lines=lines)


def _index_lines(
    node: yaml.Node, prefix: tuple[str | int, ...], out: dict[tuple[str | int, ...], int]
) -> None:
    out.setdefault(prefix, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            path = (*prefix, key)
            out[path] = key_node.start_mark.line + 1
            _index_lines(value_node, path, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            path = (*prefix, index)
            out[path] = item.start_mark.line + 1
            _index_lines(item, path, out)


def duplicate_keys(text: str) -> list[tuple[int, str]]:
    """(line, dotted key path) of each key given twice in one mapping, in line order.

    PyYAML keeps the last of two equal keys silently; in a runbook or scenario that is a bug.
    """
    found: list[tuple[int, str]] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(yaml.compose(text, yaml.SafeLoader), ())]
    while stack:
        node, prefix = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                if key in seen:
                    dotted = ".".join(str(k) for k in (*prefix, key))
                    found.append((key_node.start_mark.line + 1, dotted))
                seen.add(key)
                stack.append((value_node, (*prefix, key)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*prefix, i)) for i, item in enumerate(node.value))
    return sorted(found, key=lambda item: item[0])


@lru_cache(maxsize=8)
def _load_config_cached(path: str, mtime: float) -> YamlDoc:
    return load_yaml(Path(path))


def load_config(path: Path | None = None) -> YamlDoc | None:
    """The parsed agentir.yaml (explicit path, else the nearest one), or None when there is none."""
    found = path or find_config()
    if found is None:
        return None
    try:
        mtime = found.stat().st_mtime
    except OSError as exc:
        raise ConfigError(f"cannot read {found}: {exc}", hint="check the path") from exc
    doc = _load_config_cached(str(found), mtime)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise ConfigError(f"{found}:1: the top level must be a mapping", hint="see the README")
    return doc


def load_section(name: str, path: Path | None = None) -> tuple[Any, YamlDoc | None]:
    """One top-level section of agentir.yaml (or None) and the document it came from."""
    doc = load_config(path)
    if doc is None or not doc.data:
        return None, doc
    return doc.data.get(name), doc


def env_setting(name: str) -> str | None:
    """The value of AGENTIR_<NAME>, or None."""
    return os.environ.get(f"AGENTIR_{name.upper()}")


def dump_yaml(data: Any) -> str:
    """Serialise plain data as block-style YAML, keys in insertion order (the one YAML writer)."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return str(
        yaml.dump(
            data, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=False
        )
    )


def parse_yaml_fast(text: str) -> Any:
    """Parse machine-written YAML (incident.yaml) with the C loader when available; no line map."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # a SafeLoader variant: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"line {line}: invalid YAML: {problem}", hint="fix that line") from exc
