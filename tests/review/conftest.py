"""Review tests: the golden-file switch and the deterministic incident cases."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.review.scenario import Case, checkout_case

GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    """`pytest tests/review --update-golden` rewrites the golden files instead of comparing."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/review/golden/* from the current output",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the golden files are to be rewritten (flag or AGENTIR_UPDATE_GOLDEN=1)."""
    flag = bool(request.config.getoption("--update-golden", default=False))
    return flag or os.environ.get("AGENTIR_UPDATE_GOLDEN") == "1"


@pytest.fixture
def checkout(monkeypatch: pytest.MonkeyPatch, agentir_home: Path, tmp_path: Path) -> Case:
    """The hand-written SEV1 incident, contained and remediated, 30 h after it started."""
    return checkout_case(monkeypatch, agentir_home, tmp_path)
