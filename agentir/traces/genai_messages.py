"""Chat messages as GenAI instrumentations record them, in one neutral shape.

Spans carry the model's input and output in several dialects: the OTel semantic
conventions (`[{role, parts:[{type:"text"|"tool_call"|"tool_call_response"|"reasoning"}]}]`),
OpenAI chat (`content`, `tool_calls`, role `tool`), OpenAI Responses items
(`function_call`, `function_call_output`, `output_text`), Anthropic content blocks
(`text`, `tool_use`, `tool_result`, `thinking`) and flattened attributes
(OpenInference `llm.input_messages.0.message.content`, OpenLLMetry `gen_ai.prompt.0.content`).
`normalize` turns any of them into `Msg` records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from agentir.traces.base import as_dict, as_str, json_args, loads


@dataclass
class ToolCallPart:
    """A tool call the model asked for inside a message."""

    call_id: str | None
    name: str
    args: Mapping[str, Any]


@dataclass
class Msg:
    """One chat message reduced to what the timeline needs."""

    role: str
    texts: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    tool_calls: list[ToolCallPart] = field(default_factory=list)
    tool_results: list[tuple[str | None, str]] = field(default_factory=list)  # (call id, output)

    @property
    def text(self) -> str:
        """The message's text parts joined."""
        return "\n".join(t for t in self.texts if t)


def parse_jsonish(value: Any) -> Any:
    """A JSON string decoded (repeatedly, for double-encoded exports); other values as they are."""
    for _ in range(3):
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text or text[0] not in '{["':
            return value
        try:
            value = loads(text)
        except ValueError:
            return value
    return value


def text_of(value: Any) -> str:
    """Readable text from a tool output or content value (text blocks joined, else JSON)."""
    value = parse_jsonish(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        streams = [
            value[k] for k in ("stdout", "stderr") if isinstance(value.get(k), str) and value[k]
        ]
        if streams:
            return "\n".join(streams)
        for key in ("content", "output", "result", "text"):
            if key in value and isinstance(value[key], (str, list)):
                inner = text_of(value[key])
                if inner:
                    return inner
    if isinstance(value, list):
        texts = [
            str(b.get("text"))
            for b in value
            if isinstance(b, dict) and isinstance(b.get("text"), str)
        ]
        if texts and len(texts) == len(value):
            return "\n".join(texts)
    return as_str(value)


def system_instructions(value: Any) -> list[Msg]:
    """`gen_ai.system_instructions` (a list of parts, or plain text) as one system message."""
    value = parse_jsonish(value)
    msg = Msg("system")
    if isinstance(value, str):
        msg.texts.append(value)
    elif isinstance(value, list):
        for part in value:
            _add_block(msg, part)
    return [msg] if msg.text else []


def normalize(value: Any) -> list[Msg]:
    """Messages from any supported dialect; unknown shapes give an empty list."""
    value = parse_jsonish(value)
    if isinstance(value, dict):
        if isinstance(value.get("output"), list) and value.get("object") == "response":
            value = value["output"]  # an OpenAI Responses object: its output items
        elif isinstance(value.get("messages"), list):
            value = value["messages"]
        else:
            value = [value]
    if not isinstance(value, list):
        return []
    out: list[Msg] = []
    for item in value:
        msg = _one(item)
        if msg is not None:
            out.append(msg)
    return out


def _one(item: Any) -> Msg | None:
    if not isinstance(item, dict):
        return None
    kind = item.get("type")
    if kind == "function_call":  # Responses item
        name = item.get("name")
        if not isinstance(name, str):
            return None
        call = ToolCallPart(
            _id(item.get("call_id") or item.get("id")), name, json_args(item.get("arguments"))
        )
        return Msg("assistant", tool_calls=[call])
    if kind == "function_call_output":
        return Msg("tool", tool_results=[(_id(item.get("call_id")), text_of(item.get("output")))])
    role = item.get("role")
    if not isinstance(role, str):
        return None
    msg = Msg(role)
    if isinstance(item.get("parts"), list):
        for part in item["parts"]:
            _add_block(msg, part)
    content = item.get("content", item.get("contents"))
    if isinstance(content, str):
        if role == "tool":
            msg.tool_results.append((_id(item.get("tool_call_id")), content))
        else:
            msg.texts.append(content)
    elif isinstance(content, list):
        for block in content:
            _add_block(msg, block)
    for call in item.get("tool_calls") or []:
        if isinstance(call, dict):
            fn = as_dict(call.get("function")) or call
            name = fn.get("name")
            if isinstance(name, str):
                msg.tool_calls.append(
                    ToolCallPart(_id(call.get("id")), name, json_args(fn.get("arguments")))
                )
    return msg


def _add_block(msg: Msg, block: Any) -> None:
    if isinstance(block, str):
        msg.texts.append(block)
        return
    if not isinstance(block, dict):
        return
    kind = block.get("type")
    if kind in ("text", "output_text", "input_text", None):
        text = block.get("content", block.get("text"))
        if isinstance(text, str):
            msg.texts.append(text)
    elif kind in ("reasoning", "thinking"):
        text = block.get("content", block.get("thinking"))
        if isinstance(text, str):
            msg.reasoning.append(text)
    elif kind in ("tool_call", "tool_use", "function_call"):
        name = block.get("name")
        if isinstance(name, str):
            args = block.get("arguments", block.get("input"))
            msg.tool_calls.append(
                ToolCallPart(_id(block.get("id") or block.get("call_id")), name, json_args(args))
            )
    elif kind in ("tool_call_response", "tool_result", "function_call_output"):
        call_id = _id(block.get("id") or block.get("tool_use_id") or block.get("call_id"))
        result = block.get("result", block.get("content", block.get("output")))
        msg.tool_results.append((call_id, text_of(result)))


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --------------------------------------------------------------------------- flattened attributes

_FLAT = re.compile(r"^(\d+)\.(.+)$")


def unflatten(attrs: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Rebuild `prefix.{i}.a.{j}.b` attributes into a list of nested dicts (lists by index)."""
    tree: dict[str, Any] = {}
    for key, value in attrs.items():
        if key.startswith(prefix):
            _insert(tree, key[len(prefix) :].split("."), value)
    return [v for v in _listify(tree) if isinstance(v, dict)] if tree else []


def _insert(node: dict[str, Any], path: list[str], value: Any) -> None:
    for step in path[:-1]:
        child = node.get(step)
        if not isinstance(child, dict):
            child = {}
            node[step] = child
        node = child
    node[path[-1]] = value


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


def flattened_messages(attrs: Mapping[str, Any], prefix: str) -> list[Msg]:
    """Messages from OpenInference (`…{i}.message.*`) or OpenLLMetry (`…{i}.*`) flat keys."""
    items = []
    for raw in unflatten(attrs, prefix):
        inner = as_dict(raw.get("message")) or raw
        item = dict(inner)
        contents = item.pop("contents", None)
        if isinstance(contents, list):  # OpenInference: contents.{j}.message_content.{type,text}
            item["content"] = [c.get("message_content", c) for c in contents if isinstance(c, dict)]
        calls = item.get("tool_calls")
        if isinstance(calls, list):
            item["tool_calls"] = [c.get("tool_call", c) for c in calls if isinstance(c, dict)]
        items.append(item)
    return normalize(items)
