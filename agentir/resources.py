"""Where shipped files live: `runbooks/` and `templates/` in a checkout, `_shipped/` in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir(name: str) -> Path:
    """The shipped `runbooks` or `templates` folder (wheel copy first, then the source tree)."""
    installed = _PACKAGE / "_shipped" / name
    if installed.is_dir():
        return installed
    source = _PACKAGE.parent / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"shipped folder {name!r} is missing from this installation")


def data_file(name: str) -> Path:
    """A data file bundled inside the package (agentir/data/)."""
    return _PACKAGE / "data" / name
