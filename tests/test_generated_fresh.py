"""The committed stubs in generated/ must be what `scripts/generate` makes from proto/ now.

Every language at once (Python, Go, TypeScript, Java): a stub missing, different, or left over
from a proto that no longer exists fails. Build files kept beside the stubs are not generated.
"""

from __future__ import annotations

import filecmp
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD_FILES = {"go/go.mod", "go/go.sum"}
"""Hand-kept files in generated/ (the Go module of the stubs)."""
LANGUAGES = ("python", "go", "typescript", "java")


def _files(base: pathlib.Path) -> set[str]:
    return {
        str(p.relative_to(base))
        for p in base.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_generated_stubs_are_fresh(tmp_path: pathlib.Path) -> None:
    subprocess.run([str(ROOT / "scripts" / "generate"), str(tmp_path)], check=True)
    fresh, committed = tmp_path / "generated", ROOT / "generated"
    fresh_files = _files(fresh)
    assert fresh_files, "scripts/generate produced nothing"
    missing = fresh_files - _files(committed)
    assert not missing, f"generated/ lacks {sorted(missing)}: run scripts/generate and commit"
    stale = [f for f in sorted(fresh_files) if not filecmp.cmp(fresh / f, committed / f, False)]
    assert not stale, f"generated/ is stale in {stale}: run scripts/generate and commit"
    extra = _files(committed) - fresh_files - BUILD_FILES
    assert not extra, f"generated/ has files scripts/generate no longer makes: {sorted(extra)}"
    produced = {f.split("/", 1)[0] for f in fresh_files}
    assert produced == set(LANGUAGES), f"stubs generated for {sorted(produced)} only"
