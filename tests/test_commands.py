"""The generated project's everyday commands, and what they say when a step was left out."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import BIN, FOREIGN_PLUGINS, Project
from tests.ports import free_port
from tests.test_real_process import request, serve


def attempt(
    project: Project, argv: list[str], database_url: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run a command in the project that may fail, and return what it did."""
    return subprocess.run(
        argv,
        cwd=project.path,
        env=project.env(database_url, **env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# Alembic as a developer runs it (`make migrate` runs it through app/prestart.py, whose
# messages tests/test_prestart.py checks).
MIGRATE = ["python", "-m", "alembic", "upgrade", "heads"]


def missing_database(project: Project) -> str:
    return project.pg.database_url(f"missing_{uuid.uuid4().hex[:8]}")


def unreachable_database(project: Project) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nowhere"


def test_migrate_on_a_missing_database_says_so_in_one_line(default_project: Project) -> None:
    url = missing_database(default_project)
    name = url.rsplit("/", 1)[1]

    result = attempt(default_project, MIGRATE, url)

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Database {name} on 127.0.0.1:{url.split(':')[-1].split('/')[0]} does not exist: "
        "create it with `make db` (or start compose's with `make up`), "
        "or fix MIGRATION_DATABASE_URL."
    ]


def test_migrate_without_a_server_says_so_in_one_line(default_project: Project) -> None:
    url = unreachable_database(default_project)

    result = attempt(default_project, MIGRATE, url)

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Cannot reach PostgreSQL for nowhere on 127.0.0.1:")
    assert "MIGRATION_DATABASE_URL" in line


def test_a_weak_production_secret_is_named_and_its_value_never_shown(
    default_project: Project,
) -> None:
    secret = f"weak-{uuid.uuid4().hex[:10]}"
    database_url = default_project.pg.database_url("postgres")

    result = attempt(
        default_project,
        [
            default_project.interpreter,
            "-c",
            "from app.core.settings import get_settings; get_settings()",
        ],
        database_url,
        ENVIRONMENT="production",
        SECRET_KEY=secret,
    )

    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("Invalid settings: SECRET_KEY is a placeholder or shorter than 32")
    output = result.stdout + result.stderr
    # Neither the secret nor any other setting's value.
    assert secret not in output
    assert database_url not in output
    assert "input_value" not in output


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        (
            {"TEST_REDIS_URL": "redis://:hunter2@127.0.0.1:{port}/0"},
            "Redis at redis://127.0.0.1:{port}/0 is unreachable",
        ),
        ({"TEST_DATABASE_URL": "missing"}, "does not exist: create it with `make db`"),
        ({"TEST_DATABASE_URL": "unreachable"}, "Cannot reach PostgreSQL for nowhere"),
    ],
    ids=["redis-down", "database-missing", "postgres-down"],
)
def test_the_suite_stops_in_one_line_without_its_servers(
    default_project: Project, broken: dict[str, str], says: str
) -> None:
    port = str(free_port())
    env = {key: value.format(port=port) for key, value in broken.items()}
    if env.get("TEST_DATABASE_URL") == "missing":
        env["TEST_DATABASE_URL"] = missing_database(default_project)
    elif env.get("TEST_DATABASE_URL") == "unreachable":
        env["TEST_DATABASE_URL"] = unreachable_database(default_project)

    # Redis is checked first: the database must be there for that case to be about Redis.
    url = default_project.migrated_database()
    result = attempt(
        default_project,
        ["python", "-m", "pytest", "-q", *FOREIGN_PLUGINS, "tests/test_items.py"],
        url,
        **env,
    )

    assert result.returncode != 0
    said = [line for line in result.stdout.splitlines() if says.format(port=port) in line]
    assert len(said) == 1, result.stdout
    assert "hunter2" not in result.stdout
    # It stops before any test: no failure of a test that merely lacked the server.
    assert "no tests ran" in result.stdout
    assert not re.search(r"\d+ (failed|error)", result.stdout)


def make(project: Project, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`make` in the project, with the test environment's tools in place of .venv's."""
    bin_dir = str(Path(project.interpreter).parent)
    return subprocess.run(
        ["make", *args, f"BIN={bin_dir}"],
        cwd=cwd or project.path,
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_make_clean_deletes_caches_and_build_output_only(
    default_project: Project, tmp_path: Path
) -> None:
    copy = tmp_path / "service"
    shutil.copytree(default_project.path, copy, ignore=shutil.ignore_patterns(".*_cache"))
    made = [
        ".pytest_cache/v/x",
        ".mypy_cache/x",
        ".ruff_cache/x",
        ".import_linter_cache/x",
        "app/__pycache__/main.cpython-312.pyc",
        "tests/__pycache__/conftest.cpython-312.pyc",
        ".coverage",
        "htmlcov/index.html",
        "build/lib/x",
        "dist/service-0.1.0.tar.gz",
        "service.egg-info/PKG-INFO",
    ]
    kept = [".venv/lib/x/__pycache__/y.pyc", ".venv/bin/python"]
    for relative in (*made, *kept):
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        (copy / relative).write_text("x", encoding="utf-8")

    result = make(default_project, "clean", cwd=copy)

    assert result.returncode == 0, result.stdout + result.stderr
    # The cache and output directories go, not only the files made in them.
    gone = [*{r.split("/")[0] for r in made} - {"app", "tests"}, "app/__pycache__"]
    assert sorted(g for g in gone if (copy / g).exists()) == []
    assert not (copy / "tests/__pycache__").exists()
    assert all((copy / r).exists() for r in kept)
    assert (copy / ".env").exists()
    assert (copy / "app/main.py").exists()


def fake_install_tools(tmp_path: Path) -> Path:
    """The pre-commit step of `make install` alone: a `python` and a package manager that
    skip the install from the lock (the same commands every project runs, which need the
    network), next to the real pre-commit."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for fake in ("python", "package-manager"):
        (tools / fake).write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        (tools / fake).chmod(0o755)
    (tools / "pre-commit").symlink_to(BIN / "pre-commit")
    return tools


def install(copy: Path, tools: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "install", "PYTHON=true", f"BIN={tools}", f"TOOL={tools / 'package-manager'}"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def git(copy: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=copy, check=True, capture_output=True)


def test_make_install_installs_the_hooks_or_says_why_not(
    default_project: Project, tmp_path: Path
) -> None:
    copy = tmp_path / "service"
    shutil.copytree(default_project.path, copy, ignore=shutil.ignore_patterns(".*_cache", ".git"))
    tools = fake_install_tools(tmp_path)
    env = {**default_project.env(), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    outside = install(copy, tools, env)
    assert outside.returncode == 0, outside.stderr
    assert "Not a git repository: pre-commit hooks not installed" in outside.stdout

    git(copy, "init", "-q")
    installed = install(copy, tools, env)
    assert installed.returncode == 0, installed.stderr
    assert (copy / ".git/hooks/pre-commit").exists()

    # pre-commit refuses to install beside a hooks path of the developer's own: make says
    # so and fails, instead of carrying on with no hooks.
    (copy / ".git/hooks/pre-commit").unlink()
    git(copy, "config", "core.hooksPath", "elsewhere")
    refused = install(copy, tools, env)
    assert refused.returncode != 0
    assert "core.hooksPath" in refused.stdout + refused.stderr


def test_make_cov_reports_coverage_and_holds_the_gate(
    variant: Callable[[str], Project], tmp_path: Path
) -> None:
    # The smallest render: its suite is the quickest, and serve.py (tested by starting
    # the service, not by the suite) weighs most in it.
    project = variant("bare")
    gate = re.search(r"^fail_under = (\d+)$", project.read("pyproject.toml"), re.MULTILINE)
    assert gate, "pyproject.toml sets no coverage gate"
    url = project.migrated_database()
    env = {**project.env(url), "COVERAGE_FILE": str(tmp_path / ".coverage")}

    result = subprocess.run(
        [
            "make",
            "cov",
            f"BIN={Path(project.interpreter).parent}",
            f"ARGS=-q {' '.join(FOREIGN_PLUGINS)}",
        ],
        cwd=project.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    total = re.search(r"^TOTAL .* (\d+)%$", result.stdout, re.MULTILINE)
    assert total, result.stdout[-3000:]
    assert int(total.group(1)) >= int(gate.group(1))
    help_text = make(project, "help").stdout
    assert re.search(r"^  cov ", help_text, re.MULTILINE)
    assert re.search(r"^  clean ", help_text, re.MULTILINE)


def last_json(output: str) -> dict[str, object]:
    """The last JSON object in curl's output (it ends none of them with a newline)."""
    decoder, position, value = json.JSONDecoder(), 0, None
    while position < len(output):
        if output[position].isspace():
            position += 1
            continue
        value, position = decoder.raw_decode(output, position)
    assert isinstance(value, dict), output
    return value


@pytest.mark.stage("process")
@pytest.mark.parametrize("render", ["default", "bare"])
def test_the_readme_creates_an_item_as_shown(
    render: str, variant: Callable[[str], Project]
) -> None:
    project = variant(render)
    readme = project.read("README.md")
    api = readme.split("## The API", 1)[1]
    example = next(
        block
        for block in re.findall(r"```sh\n(.*?)\n```", api, re.DOTALL)
        if "-X POST" in block and "/api/v1/items" in block
    )
    body = json.loads(re.findall(r"-d '(\{.*?\})'", example)[-1])
    url = project.migrated_database()

    with serve(project, project.env(url)) as base:
        assert f"localhost:{base.rsplit(':', 1)[1]}/" in example
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", example],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        created = last_json(result.stdout)
        assert created["id"] > 0, created
        assert {key: created[key] for key in body} == body
        assert request(f"{base}/api/v1/items/{created['id']}") == (200, created)
