"""The committed stubs in generated/ must be what `scripts/generate` makes from proto/ now."""

from __future__ import annotations

import filecmp
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]


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
