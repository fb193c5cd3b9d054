"""Microsoft's Open XML validator (the shelf tool), for tests of files xlgd writes.

Found through XLGD_OOXML_VALIDATE, else ../shared/tools/ooxml-validate/ beside the repository;
tests using it are marked `ooxml`, which .ci/run requires whenever the tool is there.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def validator_path() -> Path:
    env = os.environ.get("XLGD_OOXML_VALIDATE")
    return Path(env) if env else ROOT.parent / "shared" / "tools" / "ooxml-validate" / "ooxml_validate.sh"


def validator() -> Path:
    path = validator_path()
    if not path.is_file() or not shutil.which("bash"):
        pytest.skip(f"Microsoft's Open XML validator not found at {path} (set XLGD_OOXML_VALIDATE)")
    return path


def validate(files) -> dict:
    """{file: [problem lines]} from one validator run ([] = OK)."""
    proc = subprocess.run(["bash", str(validator()), *map(str, files)], capture_output=True, text=True, timeout=600)
    if proc.returncode == 2:
        pytest.skip(f"Open XML validator set-up failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    out, current = {}, None
    for line in proc.stdout.splitlines():
        m = re.match(r"^(\S.*?): (OK|\d+ problem\(s\)) \[", line)
        if m:
            current = out.setdefault(m.group(1), [])
        elif current is not None and line.startswith("  ") and not line.startswith("    "):
            current.append(line.strip())
    assert set(out) == {str(f) for f in files}, proc.stdout + proc.stderr
    assert (proc.returncode == 0) == (not any(out.values())), proc.stdout
    return out
