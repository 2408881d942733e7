"""The lock of each package manager: made by the copy, kept by `make lock` without
upgrades, and required up to date by `make install`."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import pytest
from package_managers import MANAGERS, PackageManager
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from registry import CORE, MODULES

from tests.conftest import BIN, render

# What each tool says when the lock is older than pyproject.toml.
STALE = {
    "uv": "needs to be updated, but `--locked` was provided",
    "poetry": "pyproject.toml changed significantly since poetry.lock was last generated",
}
OLD_STRUCTLOG = "25.1.0"


def make(target: str, project: Path) -> subprocess.CompletedProcess[str]:
    # The tools of the template's `render` group, on PATH as a developer's would be.
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ["PATH"]])}
    return subprocess.run(
        ["make", target], cwd=project, env=env, capture_output=True, text=True, check=False
    )


def locked(project: Path, manager: PackageManager) -> dict[str, str]:
    lock = tomllib.loads((project / manager.lock_file).read_text(encoding="utf-8"))
    return {p["name"]: p["version"] for p in lock["package"]}


def rendered(
    request: pytest.FixtureRequest,
    copier_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    **answers: bool,
) -> tuple[Path, PackageManager]:
    destination = tmp_path_factory.mktemp(request.param) / "service"
    answers = {**answers, "package_manager": request.param}
    return render(copier_template, destination, lock=True, **answers), MANAGERS[request.param]


@pytest.fixture(scope="module", params=list(MANAGERS))
def everything(
    request: pytest.FixtureRequest, copier_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, PackageManager]:
    """Every module on: what locks with all of them locks with any of them (the same
    versions, less what is no longer asked for), so the matrix's renders skip the lock."""
    modules = {m.question: True for m in MODULES.values() if m.question}
    return rendered(request, copier_template, tmp_path_factory, **modules)


@pytest.fixture(params=list(MANAGERS))
def bare(
    request: pytest.FixtureRequest, copier_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, PackageManager]:
    """No module: the fewest packages to lock again and again."""
    modules = {m.question: False for m in MODULES.values() if m.question}
    return rendered(request, copier_template, tmp_path_factory, **modules)


def test_the_copy_locks_what_pyproject_declares(everything: tuple[Path, PackageManager]) -> None:
    project, manager = everything
    declared = {
        canonicalize_name(Requirement(d).name)
        for module in (CORE, *MODULES.values())
        for d in (*module.dependencies, *module.dev_dependencies)
    }

    packages = locked(project, manager)
    assert declared | {manager.tool} <= set(packages)
    assert not [p for p in project.glob("*.lock") if p.name != manager.lock_file]


def test_a_stale_lock_fails_install_and_make_lock_adds_without_upgrading(
    bare: tuple[Path, PackageManager],
) -> None:
    project, manager = bare
    pyproject = project / "pyproject.toml"
    declared = pyproject.read_text(encoding="utf-8")
    assert declared.count('"structlog>=25.1",') == 1
    # A lock that holds an older structlog than the newest its range allows.
    pyproject.write_text(declared.replace("structlog>=25.1", f"structlog=={OLD_STRUCTLOG}"))
    assert make("lock", project).returncode == 0
    # Then a new dependency, without relocking.
    pyproject.write_text(
        declared.replace('"structlog>=25.1",', '"structlog>=25.1",\n    "orjson>=3.10",')
    )

    install = make("install", project)

    assert install.returncode != 0
    # uv wraps its message to the terminal's width.
    assert STALE[manager.name] in " ".join((install.stdout + install.stderr).split())
    assert "orjson" not in locked(project, manager)

    relock = make("lock", project)

    assert relock.returncode == 0, relock.stdout + relock.stderr
    packages = locked(project, manager)
    assert "orjson" in packages
    assert packages["structlog"] == OLD_STRUCTLOG
