"""Shared fixtures: the template as a git repo, PostgreSQL, and rendered projects."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from aiosmtpd.controller import Controller

from tests.ports import free_port
from tests.postgres import Server, find_server
from tests.redis_server import find_redis

REPO_ROOT = Path(__file__).resolve().parents[1]
# The extensions are loaded by Copier by path; the tests import them the same way.
sys.path.insert(0, str(REPO_ROOT / "extensions"))
BIN = Path(sys.executable).parent
# Variables the rendered service reads; the harness decides them, not the caller's shell.
SERVICE_VARIABLES = (
    "DATABASE_URL",
    "MIGRATION_DATABASE_URL",
    "TEST_DATABASE_URL",
    "SECRET_KEY",
    "SMTP_HOST",
    "SMTP_PORT",
    "REDIS_URL",
    "TEST_REDIS_URL",
    "REDIS_KEY_PREFIX",
)
# Plugins of the template's own test environment that the rendered suite must not load.
FOREIGN_PLUGINS = ("-p", "no:copier", "-p", "no:gitconfig", "-p", "no:dir-equal")


@pytest.fixture(scope="session")
def copier_template_paths() -> list[str]:
    # Only what Copier reads: copying the whole checkout would drag .venv along.
    return ["copier.yml", "template", "extensions"]


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Server:
    return find_server(tmp_path_factory.mktemp("postgres"))


class Inbox:
    """What the harness's SMTP server received (aiosmtpd runs it in its own thread)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[int, Inbox]]:
    """A real SMTP server for the rendered services' mail: (port, inbox)."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, server = find_redis(tmp_path_factory.mktemp("redis"))
    yield url
    if server is not None:
        server.stop()


def render(template: Path, destination: Path, **answers: Any) -> Path:
    copier.run_copy(
        str(template), destination, data=answers, defaults=True, unsafe=True, quiet=True
    )
    return destination


CACHE_DIRS = frozenset({".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", ".git"})


@dataclass
class Project:
    """A rendered project, and the commands its developers would run in it."""

    path: Path
    pg: Server
    # Redis for the modules that use it; each project's tests keep to their own key prefix.
    redis_url: str = ""
    smtp_port: int = 0
    databases: list[str] = field(default_factory=list)

    def new_database(self) -> str:
        """A fresh, empty database for this project, dropped at the end of the session."""
        name = self.pg.create_database()
        self.databases.append(name)
        return self.pg.database_url(name)

    def env(self, database_url: str | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
        env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
        if database_url:
            env |= {
                "DATABASE_URL": database_url,
                "MIGRATION_DATABASE_URL": database_url,
                "TEST_DATABASE_URL": database_url,
            }
        if self.redis_url:
            # A fresh database starts its ids at 1 again: a key prefix of its own keeps it
            # from meeting values an earlier run cached in the same Redis.
            env |= {
                "REDIS_URL": self.redis_url,
                "TEST_REDIS_URL": self.redis_url,
                "REDIS_KEY_PREFIX": f"tpl-{uuid.uuid4().hex[:12]}",
            }
        if self.smtp_port:
            env |= {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.smtp_port)}
        return env | extra

    def run(
        self, *command: str, database_url: str | None = None, timeout: float = 600, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run a tool of the test environment inside the project; fail with its output."""
        return self._run([sys.executable, "-m", *command], database_url, timeout, env)

    def python(self, code: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run Python code inside the project, as its own scripts would."""
        return self._run([sys.executable, "-c", code], None, 60, env)

    def _run(
        self, argv: list[str], database_url: str | None, timeout: float, env: dict[str, str]
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            argv,
            cwd=self.path,
            env=self.env(database_url, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, (
            f"`{' '.join(argv[1:])}` exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
        return result

    def files(self) -> list[Path]:
        """What the template rendered: everything but tool caches."""
        return [
            p
            for p in self.path.rglob("*")
            if p.is_file() and not CACHE_DIRS.intersection(p.relative_to(self.path).parts)
        ]

    def answers(self) -> dict[str, Any]:
        answers: dict[str, Any] = yaml.safe_load(self.read(".copier-answers.yml"))
        return answers

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text(encoding="utf-8")

    def drop_databases(self) -> None:
        for name in self.databases:
            self.pg.drop_database(name)


# Renders that every render check runs against, by name. Each differs from the defaults
# only in its modules; the port is free so that sessions can run side by side.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},  # auth and cache
    "without-auth": {"with_auth": False},  # cache only
    "rate-limit-only": {"with_cache": False, "with_rate_limit": True},
    "everything": {"with_rate_limit": True, "with_celery": True, "with_mail": True},
    "celery-only": {"with_celery": True},
    "mail-only": {"with_mail": True},
    "bare": {"with_auth": False, "with_cache": False},  # no optional module at all
}


@pytest.fixture(scope="session")
def variant(
    copier_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    pg: Server,
    redis_url: str,
    smtp: tuple[int, Inbox],
) -> Iterator[Callable[[str], Project]]:
    """`variant(name)`: that variant's project, rendered once per session on first use."""
    rendered: dict[str, Project] = {}
    base = tmp_path_factory.mktemp("variants")

    def get(name: str) -> Project:
        if name not in rendered:
            answers = {"http_port": free_port(), **VARIANTS[name]}
            path = render(copier_template, base / name, **answers)
            rendered[name] = Project(path, pg, redis_url, smtp[0])
        return rendered[name]

    yield get
    for project in rendered.values():
        project.drop_databases()


@pytest.fixture(scope="session", params=list(VARIANTS))
def project(request: pytest.FixtureRequest, variant: Callable[[str], Project]) -> Project:
    return variant(request.param)


@pytest.fixture(scope="session")
def default_project(variant: Callable[[str], Project]) -> Project:
    """The project a team gets with every default answer."""
    return variant("default")
