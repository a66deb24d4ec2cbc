"""The dependency direction of DESIGN.md section 2, checked by import-linter's contracts in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.servers import ROOT


def test_the_core_never_imports_adapters_workers_or_vendor_sdks() -> None:
    linter = Path(sys.executable).parent / "lint-imports"
    assert linter.exists(), "import-linter is a dev dependency: pip install -e '.[dev]'"

    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout
