"""The package's layers (README "Layout"): imports only run downwards, no circles, the core
stays pure, and no private name is imported across modules.

The contracts live in pyproject.toml ([tool.importlinter]); ``lint-imports`` checks them in
scripts/test too. The second test proves the check bites: an upward import added to a copy
of the package must break the contracts.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "xlhealth"


def lint_imports(cwd: Path, package_parent: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_contracts_hold():
    done = lint_imports(ROOT, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 4 kept, 0 broken." in done.stdout


def test_an_upward_import_breaks_the_contracts(tmp_path):
    shutil.copytree(PACKAGE, tmp_path / "xlhealth", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    scoring = tmp_path / "xlhealth" / "core" / "scoring.py"
    upward = "import numpy as np\n\nimport xlhealth.sheets.outputs\n"
    scoring.write_text(scoring.read_text().replace("import numpy as np\n", upward, 1))
    done = lint_imports(tmp_path, tmp_path)
    assert done.returncode != 0
    assert "xlhealth.core.scoring -> xlhealth.sheets.outputs" in done.stdout


def test_no_private_name_is_imported_across_modules():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xlhealth"):
                found += [
                    f"{path.relative_to(ROOT)}:{node.lineno} {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
    assert found == []


def test_every_module_stays_a_readable_size():
    """A module past ~500 lines is split by concern (DESIGN "Architecture we expect")."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 520
    }
    assert long == {}
