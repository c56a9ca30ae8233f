"""The layers are a contract (import-linter, configured in pyproject.toml): cli -> api -> extract -> io | curation | site ->
analysis -> store -> db -> records -> models -> errors, and nothing imports upward."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

# Runs import-linter on the package in the folder argv[1] (import-linter puts the current folder first on
# sys.path, so the child runs there).
CHILD = """
import sys
from importlinter.cli import lint_imports
sys.exit(lint_imports(config_filename=sys.argv[1] + "/pyproject.toml", no_cache=True))
"""


def run_contract(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CHILD, str(root)], cwd=root, capture_output=True, text=True,
                          timeout=120)


def test_the_package_keeps_its_layers() -> None:
    result = run_contract(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(("module", "upward"), [
    ("incidents/store/figures.py", "incidents.cli"),           # a write reaching for the command line
    ("incidents/models.py", "incidents.store.incidents"),      # the schema reaching for the writes
    ("incidents/analysis/sql.py", "incidents.io.exports"),     # analysis reaching for a file format
    ("incidents/db/engine.py", "incidents.api"),               # the engine reaching for the API
])
def test_an_upward_import_breaks_the_contract(tmp_path: Path, module: str, upward: str) -> None:
    copy = tmp_path / "checkout"
    shutil.copytree(ROOT / "incidents", copy / "incidents", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    with (copy / module).open("a", encoding="utf-8") as file:
        file.write(f"\nimport {upward}  # deliberately wrong: imports upward\n")
    result = run_contract(copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 kept, 1 broken" in result.stdout
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{importer} -> {upward}" in result.stdout
