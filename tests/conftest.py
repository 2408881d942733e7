"""Shared fixtures: the template as a git repo, PostgreSQL, and rendered projects."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from aiosmtpd.controller import Controller
from package_managers import MANAGERS

from tests import containers, matrix, pythons
from tests.ports import free_port
from tests.postgres import CREATED, Server, find_server
from tests.redis_server import find_redis

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MATRIX = matrix.load()
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
# Each test worker's mypy cache: what it learnt of the libraries serves every project.
MYPY_CACHE = pythons.CACHE / "mypy" / os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: a worker more than there are cores. The tests often wait (for a server
    to start, a task's redelivery, an image build), and the other workers use that time:
    with two workers on two cores, a quarter of the CPU time went unused."""
    return (os.cpu_count() or 1) + 1


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("template")
    group.addoption(
        "--full-matrix",
        action="store_true",
        help="render and check every row of the matrix (tests/matrix.py: any three module "
        "questions in every way) "
        "instead of the named variants",
    )
    group.addoption(
        "--matrix-results",
        metavar="PATH",
        help="write each render's stages, outcomes and times to PATH as JSON",
    )


@pytest.fixture(scope="session")
def copier_template_paths() -> list[str]:
    # Only what Copier reads: copying the whole checkout would drag .venv along.
    return ["copier.yml", "template", "extensions"]


# Databases migrated to the head of a schema (by a hash of its migrations), to copy from.
MIGRATED: dict[str, str] = {}


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = find_server(tmp_path_factory.mktemp("postgres"))
    yield server
    for template in MIGRATED.values():
        server.drop_database(template)
    left_behind = sorted(CREATED)
    for name in left_behind:
        server.drop_database(name)
    # Dropped now all the same, but a test that forgets its databases is a defect: on a
    # developer's server they pile up with every run.
    assert left_behind == [], f"the tests left these databases behind: {left_behind}"


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


def env_values(text: str) -> dict[str, str]:
    """The variables a generated `.env` (or `.env.example`) sets, unquoted: each value is in
    single quotes, or in double quotes when it holds a single quote (and nothing else that
    a shell would expand). tests/test_env.py checks that shells and compose read the same."""
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {name: value[1:-1] for name, value in pairs}


def render(template: Path, destination: Path, *, lock: bool = False, **answers: Any) -> Path:
    """Copy the template with `answers`. Without the copy's task, the lock, unless `lock`:
    it costs more than the rest of the copy, and most tests never read it
    (`Project.lock` makes it later, as the task does)."""
    copier.run_copy(
        str(template),
        destination,
        data=answers,
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=not lock,
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
    # The environment it is checked and tested in: one of the Python it declares.
    interpreter: str = sys.executable
    databases: list[str] = field(default_factory=list)

    def new_database(self) -> str:
        """A fresh, empty database for this project, dropped at the end of the session."""
        name = self.pg.create_database()
        self.databases.append(name)
        return self.pg.database_url(name)

    def migrated_database(self) -> str:
        """A fresh database at the head revision, copied from one migrated once per schema."""
        migrations = sorted((self.path / "app" / "db" / "migrations").rglob("*.py"))
        schema = hashlib.sha256(b"".join(p.read_bytes() for p in migrations)).hexdigest()
        if schema not in MIGRATED:
            template = self.pg.create_database("tpl_migrated")
            try:
                self.run("alembic", "upgrade", "heads", database_url=self.pg.database_url(template))
            except BaseException:
                self.pg.drop_database(template)
                raise
            MIGRATED[schema] = template
        name = self.pg.create_database(template=MIGRATED[schema])
        self.databases.append(name)
        return self.pg.database_url(name)

    def env(self, database_url: str | None = None, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
        path = [str(Path(self.interpreter).parent), str(BIN), env.get("PATH", "")]
        env["PATH"] = os.pathsep.join(path)
        env["MYPY_CACHE_DIR"] = str(MYPY_CACHE)
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
        return self._run([self.interpreter, "-m", *command], database_url, timeout, env)

    def python(
        self, code: str, *, database_url: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run Python code inside the project, as its own scripts would."""
        return self._run([self.interpreter, "-c", code], database_url, 60, env)

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

    def lock(self) -> None:
        """Lock the dependencies as the copy's task does, unless they are locked already."""
        manager = MANAGERS[self.answers()["package_manager"]]
        if not (self.path / manager.lock_file).exists():
            script = REPO_ROOT / "extensions" / "lock.py"
            self._run([sys.executable, str(script), manager.name], None, 600, {})

    def drop_databases(self) -> None:
        for name in self.databases:
            self.pg.drop_database(name)


# The renders a plain run checks, by name: each differs from the defaults only in its
# modules. `--full-matrix` checks every row of tests/matrix.py instead.
VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},  # auth and cache
    "without-auth": {"with_auth": False},  # cache only
    "rate-limit-only": {"with_cache": False, "with_rate_limit": True},
    "everything": {"with_rate_limit": True, "with_celery": True, "with_mail": True},
    "celery-only": {"with_celery": True},
    "mail-only": {"with_mail": True},
    "bare": {"with_auth": False, "with_cache": False},  # no optional module at all
}
RENDERS = VARIANTS | {row.name: dict(row.answers) for row in MATRIX.rows}
_QUESTIONS = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
DEFAULT_ANSWERS = {name: _QUESTIONS[name]["default"] for name in [*MATRIX.toggles, *MATRIX.neutral]}


def answers_of(name: str) -> dict[str, Any]:
    """The answers that decide what a render holds: copier.yml's defaults, then its own."""
    return DEFAULT_ANSWERS | RENDERS[name]


def checked_renders(config: pytest.Config) -> list[str]:
    """The renders this run checks: the named variants, or every row of the matrix."""
    return [r.name for r in MATRIX.rows] if config.getoption("full_matrix") else list(VARIANTS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "project" in metafunc.fixturenames:
        renders = checked_renders(metafunc.config)
        metafunc.parametrize("project", renders, indirect=True, scope="session")


def render_of(item: pytest.Item) -> str | None:
    params = getattr(item, "callspec", None)
    return params.params.get("project", params.params.get("render")) if params else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if name := render_of(item):
            # xdist's loadgroup keeps a render's tests on one worker: rendered once.
            item.add_marker(pytest.mark.xdist_group(name))
            stage = item.get_closest_marker("stage")
            item.user_properties += [
                ("render", name),
                ("stage", stage.args[0] if stage else item.originalname),
            ]


@pytest.fixture(scope="session")
def variant(
    copier_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
    pg: Server,
    redis_url: str,
    smtp: tuple[int, Inbox],
) -> Iterator[Callable[[str], Project]]:
    """`variant(name)`: that render's project, rendered once per session on first use."""
    rendered: dict[str, Project] = {}
    base = tmp_path_factory.mktemp("variants")

    def get(name: str) -> Project:
        if name not in rendered:
            answers = answers_of(name)
            python = pythons.interpreter(answers["python_version"])
            path = render(copier_template, base / name, http_port=free_port(), **answers)
            rendered[name] = Project(path, pg, redis_url, smtp[0], python)
        return rendered[name]

    yield get
    for project in rendered.values():
        project.drop_databases()


@pytest.fixture(scope="session")
def project(request: pytest.FixtureRequest, variant: Callable[[str], Project]) -> Project:
    return variant(request.param)


@pytest.fixture(scope="session")
def default_project(variant: Callable[[str], Project]) -> Project:
    """The project a team gets with every default answer."""
    return variant("default")


class MatrixResults:
    """Each render's stages, outcomes and times, as the controller hears of them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.started = time.monotonic()
        self.renders: dict[str, dict[str, dict[str, Any]]] = {}

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        if "render" not in properties:
            return
        # Setting up is rendering (the first test of a render does it); the rest is the
        # test's own stage.
        stage = "render" if report.when == "setup" else properties["stage"]
        record = self.renders.setdefault(properties["render"], {}).setdefault(
            stage, {"outcome": "passed", "seconds": 0.0, "failed": []}
        )
        record["seconds"] += report.duration
        if report.failed:
            record["outcome"] = "failed"
            record["failed"].append(report.nodeid)
        if "summary" in properties:
            record["summary"] = properties["summary"]

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        results = {
            "full_matrix": session.config.getoption("full_matrix"),
            "wall_seconds": round(time.monotonic() - self.started, 1),
            "renders": {
                name: {"answers": answers_of(name), "stages": stages}
                for name, stages in self.renders.items()
            },
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("matrix_results")
    # Under xdist the workers report to the controller, which alone writes the file.
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(MatrixResults(Path(path)), "matrix-results")


def pytest_unconfigure(config: pytest.Config) -> None:
    # A test worker may have started the container engine; the controller, last to finish,
    # stops it.
    if not hasattr(config, "workerinput"):
        containers.stop_started_engine()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which base images were real and which were stand-ins built here."""
    lines = sorted(
        {
            value
            for reports in terminalreporter.stats.values()
            for report in reports
            for name, value in getattr(report, "user_properties", ())
            if name == "base image"
        }
    )
    if lines:
        terminalreporter.write_sep("-", "base images of the container tests")
        for line in lines:
            terminalreporter.write_line(line)
