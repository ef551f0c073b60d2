"""agentir: incident response for AI coding agents (contain, assess, remediate, learn)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
