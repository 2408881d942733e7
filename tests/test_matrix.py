"""Combinations the registry declares impossible are refused, whole, before anything is written."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests import matrix
from tests.conftest import BIN, REPO_ROOT

# Constraints this template does not have, added to a copy of it: mail needs Celery, and
# the rate limiter cannot be on with the cache.
CONSTRAINTS = {
    'question="with_mail",': 'question="with_mail",\n    requires=("celery",),',
    'question="with_rate_limit",': 'question="with_rate_limit",\n    conflicts=("cache",),',
}


@pytest.fixture
def constrained_template(tmp_path: Path) -> Path:
    copy = tmp_path / "template"
    copy.mkdir()
    for part in ("copier.yml", "template", "extensions"):
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / part)
    registry = copy / "extensions" / "registry.py"
    text = registry.read_text(encoding="utf-8")
    for old, new in CONSTRAINTS.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    registry.write_text(text, encoding="utf-8")
    return copy


def test_impossible_combinations_are_refused_with_the_registry_message(
    copier_template: Path, constrained_template: Path, tmp_path: Path
) -> None:
    # Mail on with Celery off, and the cache on with the rate limiter: each once.
    assert [c.modules for c in matrix.load(constrained_template).refused] == [
        ("cache", "rate_limit"),
        ("mail",),
    ]
    # This template's own impossible combinations (none yet), then those of the copy.
    refused = [
        (template, combination)
        for template in (copier_template, constrained_template)
        for combination in matrix.load(template).refused
    ]

    for template, combination in refused:
        destination = tmp_path / combination.name
        data = [f"--data={q}={str(v).lower()}" for q, v in combination.answers.items()]
        # A process of its own: Copier imports the registry by name, once per process.
        result = subprocess.run(
            [BIN / "copier", "copy", "--defaults", "--trust", *data, template, destination],
            capture_output=True,
            text=True,
            check=False,
        )

        assert result.returncode != 0, combination.name
        for error in combination.errors:
            assert error in result.stderr, (combination.name, result.stderr)
        assert not destination.exists()
