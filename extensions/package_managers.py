"""The package managers a project may be built with: what differs between them, in one place.

`package_manager` in copier.yml picks one; extensions/context.py gives the templates its
entry as `manager`, and copier.yml's lock task and migration run extensions/lock.py with
its name. Both build with poetry-core (pyproject.toml's build backend) and read the PEP 735
`[dependency-groups]`, so pyproject.toml is the same for either.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackageManager:
    name: str
    # The tool, pinned: the project's dev group holds it (`copier update` locks with it),
    # `make install` bootstraps it where it is not on PATH, the Dockerfile installs it.
    requirement: str
    lock_file: str
    # Relocks after pyproject.toml changed, keeping every pin it can (no upgrades).
    lock: str
    # Makes .venv exactly what the lock says, dev group included; fails on a stale lock.
    # `$(TOOL)` and `$(PYTHON)` are the Makefile's.
    install: tuple[str, ...]
    make_env: tuple[str, ...]  # variables the Makefile exports to the tool
    # The Dockerfile's build stage, after `COPY pyproject.toml <lock file> ./`: the
    # dependencies into /opt/venv, without the dev group or the project itself.
    docker_env: tuple[str, ...]
    docker_setup: tuple[str, ...]  # after the tool is installed with pip, in the same RUN
    docker_sync: str
    docker_cache: str  # the tool's cache, a BuildKit cache mount across builds
    dependabot: str  # Dependabot's ecosystem for the lock file

    @property
    def docker_run(self) -> tuple[str, ...]:
        """The build stage's first RUN, one command a line."""
        return (f'pip install --no-cache-dir "{self.requirement}"', *self.docker_setup)

    @property
    def tool(self) -> str:
        return self.requirement.partition("==")[0]

    @property
    def version(self) -> str:
        return self.requirement.partition("==")[2]


UV = PackageManager(
    name="uv",
    requirement="uv==0.13.9",
    lock_file="uv.lock",
    lock="uv lock",
    install=("$(TOOL) sync --locked --python $(PYTHON)",),
    make_env=(),
    docker_env=(
        "UV_PROJECT_ENVIRONMENT=/opt/venv",
        "UV_PYTHON_DOWNLOADS=never",
        # The cache is a mount, the venv a layer: copy, since they cannot be hard-linked.
        "UV_LINK_MODE=copy",
    ),
    docker_setup=(),
    docker_sync="uv sync --locked --no-dev --no-install-project",
    docker_cache="/root/.cache/uv",
    dependabot="uv",
)

POETRY = PackageManager(
    name="poetry",
    requirement="poetry==2.5.1",
    lock_file="poetry.lock",
    lock="poetry lock",
    install=(
        "$(TOOL) env use --quiet $(PYTHON)",
        "$(TOOL) sync",
    ),
    # .venv in the project, where the Makefile and the editor look for it.
    make_env=("POETRY_VIRTUALENVS_IN_PROJECT=true",),
    docker_env=(
        # Poetry installs into the virtualenv it runs in: /opt/venv, made beforehand.
        "VIRTUAL_ENV=/opt/venv",
        "POETRY_VIRTUALENVS_CREATE=false",
        "POETRY_CACHE_DIR=/root/.cache/pypoetry",
    ),
    docker_setup=("python -m venv /opt/venv",),
    docker_sync="poetry install --only main --no-root --no-interaction",
    docker_cache="/root/.cache/pypoetry",
    # Dependabot's pip ecosystem is the one that reads and updates poetry.lock.
    dependabot="pip",
)

MANAGERS = {m.name: m for m in (UV, POETRY)}
DEFAULT = UV.name
