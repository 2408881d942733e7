"""A Python environment per version the rendered projects may declare.

A project is checked and tested on the Python it declares. Each environment holds the
union of every module's dependencies, so one environment serves every combination of
modules; the harness's own environment serves its own version (the test group holds the
same union, and tests/test_repository.py checks it). The others are built once, under
`.cache/` (or $TEMPLATE_TEST_CACHE), and reused while the requirements stay the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from package_managers import MANAGERS
from registry import CORE, MODULES
from servers import SERVERS

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("TEMPLATE_TEST_CACHE", REPO_ROOT / ".cache"))
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def requirements() -> list[str]:
    """What the projects of every combination of modules, package manager and web server
    need, together."""
    modules = (CORE, *MODULES.values())
    tools = {m.requirement for m in MANAGERS.values()}
    servers = {d for s in SERVERS.values() for d in s.dependencies}
    declared = {d for m in modules for d in (*m.dependencies, *m.dev_dependencies)}
    return sorted(declared | tools | servers)


def interpreter(version: str) -> str:
    """The `python` of an environment for `version` that holds `requirements()`."""
    if version == RUNNING:
        return sys.executable
    wanted = "\n".join([version, *requirements()])
    target = CACHE / "envs" / f"py{version}-{hashlib.sha256(wanted.encode()).hexdigest()[:12]}"
    python = target / "bin" / "python"
    with _locked(CACHE / "envs" / f"py{version}.lock"):
        if not (target / "ready").exists():
            # Environments for requirements that have since changed are of no more use.
            for stale in target.parent.glob(f"py{version}-*"):
                shutil.rmtree(stale, ignore_errors=True)
            # uv, the harness's own (the render group's): seconds where pip takes a minute.
            uv = (sys.executable, "-m", "uv")
            _run(*uv, "venv", "--quiet", "--python", find_python(version), str(target))
            _run(*uv, "pip", "install", "--quiet", "--python", str(python), *requirements())
            (target / "ready").write_text(wanted, encoding="utf-8")
    return str(python)


def find_python(version: str) -> str:
    """A CPython `version` on this machine: on PATH, or installed by pyenv."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += [str(p) for p in sorted(pyenv.glob(f"{version}.*/bin/python{version}"))]
    for candidate in filter(None, candidates):
        # A pyenv shim is on PATH even when the version behind it is not selected.
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return candidate
    msg = (
        f"Python {version} is needed to test the projects that declare it, and none was "
        f"found on PATH or under {pyenv}. Install it (pyenv install {version}, or your "
        "system's package) and run the tests again."
    )
    raise RuntimeError(msg)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One test worker builds an environment; the others wait for it and then use it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        msg = f"`{' '.join(argv)}` exited {result.returncode}:\n{result.stdout}{result.stderr}"
        raise RuntimeError(msg)
