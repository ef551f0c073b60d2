"""Project-level promises: the README documents every command, import boundaries hold, the
wheel ships runbooks and templates, and the entry points work."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import typer

from agentir import __version__
from agentir.cli.app import app
from tests.conftest import ROOT

PACKAGE = ROOT / "agentir"

# module prefix -> the only places allowed to import it
BOUNDARIES = {
    "typer": ("agentir/cli/",),
    "click": (),
    "rich": ("agentir/cli/", "agentir/render/terminal.py"),
    "git": ("agentir/gitrepo.py",),
    "jinja2": ("agentir/render/report.py",),
    "yaml": ("agentir/config.py", "agentir/runbooks.py", "agentir/drills.py"),
}


def _command_paths(typer_app: typer.Typer, prefix: str = "") -> list[str]:
    names = [
        f"{prefix}{c.name or c.callback.__name__}".strip() for c in typer_app.registered_commands
    ]  # type: ignore[union-attr]
    for group in typer_app.registered_groups:
        sub = f"{prefix}{group.name} "
        names.append(sub.strip())
        names += _command_paths(group.typer_instance, sub)  # type: ignore[arg-type]
    return names


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in _command_paths(app) if f"agentir {name}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_shows_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "pip install . && agentir demo" in readme
    assert "pip install -e '.[test]' && pytest" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[test]' && pytest" in ci


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_import_boundaries() -> None:
    violations = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        for module in _imports(path):
            allowed = BOUNDARIES.get(module)
            if allowed is not None and not rel.startswith(allowed):
                violations.append(f"{rel} imports {module}")
    assert not violations, violations


def test_help_starts_without_heavy_imports() -> None:
    code = (
        "import sys; from agentir.cli.app import app; "
        "heavy = [m for m in ('git', 'jinja2', 'psutil') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_and_module_entry_point() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "agentir", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"agentir {__version__}"


@pytest.mark.slow
def test_wheel_ships_runbooks_and_templates(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    (wheel,) = tmp_path.glob("agentir-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("runbooks", "templates"):
        shipped = [p for p in (ROOT / folder).rglob("*") if p.is_file()]
        assert shipped, f"{folder}/ is empty"
        for p in shipped:
            assert f"agentir/_shipped/{folder}/{p.relative_to(ROOT / folder).as_posix()}" in names
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    code = "from agentir.resources import shipped_dir; print(shipped_dir('runbooks')); print(shipped_dir('templates'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(target)},
        cwd=tmp_path,
    )
    assert str(target) in out.stdout and "_shipped/runbooks" in out.stdout


def test_the_package_is_mypy_strict_clean() -> None:
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install -e '.[test]'")
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "agentir"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
