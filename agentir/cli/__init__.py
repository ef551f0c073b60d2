"""The command-line interface: typer apps, one module per command; the only place that prints."""

from __future__ import annotations


def main() -> None:
    """Entry point of the `agentir` console script."""
    from agentir.cli.app import run

    run()
