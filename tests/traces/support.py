"""Small helpers the reader tests share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from agentir.model import Event

T = TypeVar("T", bound=Event)


def of(events: Sequence[Event], cls: type[T]) -> list[T]:
    """The events of one kind, in order."""
    return [e for e in events if isinstance(e, cls)]
