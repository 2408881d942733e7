"""The image's entrypoint, `python -m app.prestart`: what it says when the database is not
ready for the code, what it does when it is, and RESET_DB and the example data."""

from __future__ import annotations

import asyncio
import json
import subprocess

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import Project
from tests.test_commands import missing_database, unreachable_database
from tests.test_real_process import dockerfile_exec

STRONG_SECRET = "k" * 48


def prestart(
    project: Project, database_url: str, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """The entrypoint as the image runs it, with `args` as its command."""
    entrypoint = dockerfile_exec(project, "ENTRYPOINT")
    assert entrypoint[:3] == ["python", "-m", "app.prestart"]
    return subprocess.run(
        [project.interpreter, *entrypoint[1:], *args],
        cwd=project.path,
        env=project.env(database_url, LOG_FORMAT="json", **env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """What a refusal says: exit status 1 and a single line on stderr."""
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()
    return line


def events(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def place(url: str) -> str:
    parsed = make_url(url)
    return f"{parsed.database} on {parsed.host}:{parsed.port or 5432}"


async def fetch(url: str, query: str) -> list[tuple[object, ...]]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await connection.fetch(query)]
    finally:
        await connection.close()


def heads(project: Project) -> list[str]:
    return sorted(line.split()[0] for line in project.run("alembic", "heads").stdout.splitlines())


@pytest.mark.stage("process")
def test_on_a_missing_database_it_says_to_create_it(default_project: Project) -> None:
    project = default_project
    url = missing_database(project)

    assert one_line(prestart(project, url)) == (
        f"Database {place(url)} does not exist: create it with `make db` "
        "(or start compose's with `make up`), or fix DATABASE_URL."
    )


@pytest.mark.stage("process")
def test_it_waits_for_a_server_that_does_not_answer_then_says_so(default_project: Project) -> None:
    project = default_project
    result = prestart(project, unreachable_database(project), PRESTART_WAIT_SECONDS="2")

    assert one_line(result).startswith("Cannot reach PostgreSQL for nowhere on 127.0.0.1:")
    waits = [e for e in events(result) if e["event"] == "waiting_for_database"]
    assert [e["attempt"] for e in waits] == [1, 2]
    assert [e["retry_in_seconds"] for e in waits] == [0.5, 1.0]
    assert all(str(e["reason"]).startswith("Cannot reach PostgreSQL") for e in waits)


@pytest.mark.stage("process")
def test_on_an_unmigrated_database_it_says_to_migrate(default_project: Project) -> None:
    project = default_project
    url = project.new_database()

    assert one_line(prestart(project, url, "python", "-c", "print('started')")) == (
        f"Database {place(url)} has no schema yet: run the migrations (`make migrate`, "
        "compose's migrate service), or set MIGRATE_ON_START=true."
    )


@pytest.mark.stage("process")
def test_on_a_database_behind_or_ahead_of_the_code_it_says_which(default_project: Project) -> None:
    project = default_project
    url = project.new_database()
    project.run("alembic", "upgrade", "0001", database_url=url)

    assert one_line(prestart(project, url)) == (
        f"Database {place(url)} is at revision 0001 and this code needs "
        f"{', '.join(heads(project))}: run the migrations (`make migrate`, compose's migrate "
        "service), or set MIGRATE_ON_START=true."
    )

    asyncio.run(fetch(url, "UPDATE alembic_version SET version_num = '9001'"))
    assert one_line(prestart(project, url)) == (
        f"Database {place(url)} is at revision 9001, which this code does not have: deploy "
        "the code that migrated it, or downgrade the database."
    )


@pytest.mark.stage("process")
def test_on_a_database_at_head_it_becomes_the_command(default_project: Project) -> None:
    project = default_project
    url = project.migrated_database()

    result = prestart(project, url, "python", "-c", "import sys; print('ran'); sys.exit(7)")

    # The command's own exit status: the entrypoint exec'd it rather than waiting on it.
    assert result.returncode == 7, result.stderr
    assert result.stdout.splitlines()[-1] == "ran"


@pytest.mark.stage("process")
def test_reset_db_is_refused_in_production(default_project: Project) -> None:
    project = default_project
    url = project.migrated_database()

    line = one_line(
        prestart(project, url, ENVIRONMENT="production", SECRET_KEY=STRONG_SECRET, RESET_DB="true")
    )

    assert line == (
        "Invalid settings: RESET_DB=true deletes every row: refused in production, "
        "it is for development only."
    )


@pytest.mark.stage("process")
def test_reset_db_rebuilds_the_schema_and_loads_the_example_data(default_project: Project) -> None:
    project = default_project
    url = project.migrated_database()
    asyncio.run(fetch(url, "INSERT INTO items (name, quantity) VALUES ('left over', 1)"))

    result = prestart(project, url, ENVIRONMENT="development", RESET_DB="true")

    assert result.returncode == 0, result.stderr
    names = asyncio.run(fetch(url, "SELECT name FROM items ORDER BY id"))
    assert names == [("Hex bolt M8",), ("Washer M8",), ("Torque wrench",)]
    assert sorted(v for (v,) in asyncio.run(fetch(url, "SELECT * FROM alembic_version"))) == heads(
        project
    )


@pytest.mark.stage("process")
def test_make_seed_adds_the_examples_once(default_project: Project) -> None:
    project = default_project
    url = project.migrated_database()

    first = project.run("app.seed", database_url=url, ENVIRONMENT="development")
    again = project.run("app.seed", database_url=url, ENVIRONMENT="development")

    assert first.stdout.strip() == "3 example items added"
    assert again.stdout.strip() == "0 example items added"
    assert asyncio.run(fetch(url, "SELECT count(*) FROM items")) == [(3,)]
    refused = prestart(project, url, "python", "-m", "app.seed", ENVIRONMENT="staging")
    assert one_line(refused) == "Example data is for development: refused in staging."
