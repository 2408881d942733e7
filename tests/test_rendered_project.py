"""Every variant's render: static checks, migrations and its own test suite, all for real."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import compose
import pytest
import yaml
from registry import MODULES
from sqlalchemy.engine import make_url

from tests.conftest import BIN, FOREIGN_PLUGINS, SERVICE_VARIABLES, Project

# `${{ ... }}` is GitHub Actions syntax, not Jinja left behind.
LEFTOVER_JINJA = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#|#\}")
# The mail module's own templates are Jinja on purpose: the service renders them.
RUNTIME_TEMPLATES = "app/mail/templates/"
COMPOSE = Path(compose.__file__).parent / "docker-compose"
# The contracts of the generated pyproject.toml, and the side packages the modules own.
LAYERS_CONTRACT = "Layers: api -> services -> db, models, schema -> core"
SIDE_CONTRACT = "Side packages never import the API or the app"
CORE_CONTRACT = "Core imports nothing else of the app"
SIDE_PACKAGES = [m.package for m in MODULES.values() if m.package]
ALEMBIC_ROUND_TRIP = """
import sys
from alembic.config import main
sys.stderr = sys.stdout  # alembic logs to stderr: keep each command's lines together
for command in ("upgrade heads", "check", "downgrade base", "current"):
    print(f"$ alembic {command}", flush=True)
    main(command.split())
"""


@pytest.mark.stage("files")
def test_no_jinja_is_left_behind(project: Project) -> None:
    files = project.files()

    assert not [p for p in files if p.suffix == ".jinja"]
    leftovers = [
        f"{p.relative_to(project.path)}:{n}"
        for p in files
        if not str(p.relative_to(project.path)).startswith(RUNTIME_TEMPLATES)
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if LEFTOVER_JINJA.search(line)
    ]
    assert leftovers == []


@pytest.mark.stage("files")
def test_no_blank_line_debris(project: Project) -> None:
    debris = [
        str(p.relative_to(project.path))
        for p in project.files()
        if "\n\n\n\n" in p.read_text(encoding="utf-8")
        or p.read_text(encoding="utf-8").startswith("\n")
    ]
    assert debris == []


@pytest.mark.stage("ruff")
def test_ruff_check_and_format(project: Project) -> None:
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")


def lint_imports(path: Path, project: Project) -> subprocess.CompletedProcess[str]:
    """`lint-imports` in `path` (a project, or a copy of one), as `make lint` runs it; no
    cache, so the project is left as rendered."""
    return subprocess.run(
        [Path(project.interpreter).parent / "lint-imports", "--no-cache", "--no-logo"],
        cwd=path,
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.stage("layers")
def test_imports_keep_to_the_layers(project: Project) -> None:
    config = tomllib.loads(project.read("pyproject.toml"))["tool"]["importlinter"]
    # A package (app/auth) or a module (app/redis.py) that the render holds.
    paths = {p: project.path / p.replace(".", "/") for p in SIDE_PACKAGES}
    side = [p for p, path in paths.items() if path.is_dir() or path.with_suffix(".py").exists()]
    forbidden = {c["name"]: c for c in config["contracts"] if c["type"] == "forbidden"}

    result = lint_imports(project.path, project)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    # The side packages' contract names those rendered, and only those.
    sides = forbidden.get(SIDE_CONTRACT, {"source_modules": []})["source_modules"]
    assert sorted(sides) == sorted(side)
    assert set(side) <= set(forbidden[CORE_CONTRACT]["forbidden_modules"])


@pytest.mark.parametrize(
    ("module", "contract"),
    [
        ("app/cache/keys.py", SIDE_CONTRACT),
        ("app/services/items.py", LAYERS_CONTRACT),
        ("app/core/logging.py", CORE_CONTRACT),
    ],
)
def test_an_import_against_the_layers_fails_lint_imports(
    default_project: Project, tmp_path: Path, module: str, contract: str
) -> None:
    copy = tmp_path / "service"
    shutil.copytree(default_project.path, copy, ignore=shutil.ignore_patterns(".*_cache"))
    with (copy / module).open("a", encoding="utf-8") as source:
        source.write("\nfrom app.api import deps  # noqa: E402, F401\n")

    result = lint_imports(copy, default_project)

    assert result.returncode != 0, result.stdout
    assert f"{contract} BROKEN" in result.stdout
    assert f"{module[:-3].replace('/', '.')} -> app.api.deps" in result.stdout


@pytest.mark.stage("mypy")
def test_mypy_strict(project: Project) -> None:
    config = tomllib.loads(project.read("pyproject.toml"))["tool"]["mypy"]
    assert config["strict"] is True

    result = project.run("mypy")

    assert "Success: no issues found" in result.stdout


@pytest.mark.stage("docker")
@pytest.mark.parametrize("dockerfile", ["Dockerfile", "sql/db.Dockerfile"])
def test_hadolint(project: Project, dockerfile: str) -> None:
    result = subprocess.run(
        [BIN / "hadolint", dockerfile],
        cwd=project.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.stage("docker")
def test_dockerfile_runs_as_non_root_with_a_healthcheck(project: Project) -> None:
    dockerfile = project.read("Dockerfile")

    assert re.search(r"^USER 1001:1001$", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    assert dockerfile.count("FROM ") == 2


@pytest.mark.stage("docker")
def test_compose_file_is_valid(project: Project) -> None:
    result = subprocess.run(
        [COMPOSE, "config", "--quiet"],
        cwd=project.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    services = yaml.safe_load(project.read("docker-compose.yml"))["services"]
    depends_on = services["api"]["depends_on"]
    assert depends_on.pop("migrate") == {"condition": "service_completed_successfully"}
    # The API waits for every backing service to be healthy (not for the workers, which
    # run its own image), and every long-running service has a healthcheck.
    own_image = {name for name, s in services.items() if s.get("build") == "."}
    assert set(depends_on) == set(services) - own_image - {"migrate"}
    assert all(d == {"condition": "service_healthy"} for d in depends_on.values())
    assert all("healthcheck" in services[name] for name in set(services) - {"migrate"})
    assert all("ports" not in services[name] for name in own_image - {"api"})


def workflow_runs(project: Project, job: str) -> list[str]:
    """The shell commands of one job of the generated CI workflow, in order."""
    jobs = yaml.safe_load(project.read(".github/workflows/ci.yml"))["jobs"]
    return [step["run"] for step in jobs[job]["steps"] if "run" in step]


@pytest.mark.stage("docker")
def test_ci_runs_make_targets_that_exist(project: Project) -> None:
    targets = set(re.findall(r"^([a-z][\w-]*):", project.read("Makefile"), re.MULTILINE))
    commands = [run.split() for run in workflow_runs(project, "check") if run.startswith("make")]

    assert [c[1] for c in commands] == ["install", "lint", "typecheck", "db", "test"]
    assert {c[1] for c in commands} <= targets


@pytest.mark.stage("docker")
def test_ci_tests_as_the_application_role_that_make_db_creates(
    project: Project, tmp_path: Path
) -> None:
    job = yaml.safe_load(project.read(".github/workflows/ci.yml"))["jobs"]["check"]
    env = job["env"]
    database = project.answers()["database_name"]
    tests = make_url(env["TEST_DATABASE_URL"])
    owner = make_url(env["MIGRATION_DATABASE_URL"])
    service = job["services"]["postgres"]["env"]

    assert tests.username == f"{database}_app"
    assert tests.database == f"{database}_test"
    assert owner.username == "postgres"
    assert owner.password == service["POSTGRES_PASSWORD"]
    # init_db.sql creates the databases: the service container makes none of its own.
    assert "POSTGRES_DB" not in service

    # The step that writes .env, run for real in a checkout, which has none.
    checkout = shutil.copytree(
        project.path, tmp_path / "checkout", ignore=shutil.ignore_patterns(".env")
    )
    env_step = next(run for run in workflow_runs(project, "check") if "> .env" in run)
    shell_env = {"PATH": os.environ["PATH"], **{k: str(v) for k, v in env.items()}}
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", env_step], cwd=checkout, env=shell_env, check=True
    )
    lines = (checkout / ".env").read_text(encoding="utf-8").splitlines()
    values = dict(line.split("=", 1) for line in lines)

    # What `make db` reads: the superuser's password, and the password it gives the role
    # that TEST_DATABASE_URL logs in as.
    assert values["POSTGRES_PASSWORD"] == service["POSTGRES_PASSWORD"]
    assert values["APP_DB_PASSWORD"] == tests.password
    assert len(values["SECRET_KEY"]) >= 32


@pytest.mark.stage("docker")
def test_ci_gives_compose_the_secrets_it_refuses_to_start_without(
    project: Project, tmp_path: Path
) -> None:
    # A checkout, as CI has it: no .env, and none of the service's variables around.
    checkout = shutil.copytree(
        project.path, tmp_path / "checkout", ignore=shutil.ignore_patterns(".env")
    )
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}

    def config() -> subprocess.CompletedProcess[str]:
        command = [COMPOSE, "config", "--quiet"]
        return subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True)

    assert config().returncode != 0
    secrets_step, up, *_ = workflow_runs(project, "image")
    subprocess.run(["bash", "-euo", "pipefail", "-c", secrets_step], cwd=checkout, check=True)

    assert config().returncode == 0, config().stderr
    lines = (checkout / ".env").read_text(encoding="utf-8").splitlines()
    values = dict(line.split("=", 1) for line in lines)
    assert len(set(values.values())) == len(values) >= 3
    assert up.startswith("docker compose up --build --detach --wait")


# What no long-running container may hold: the owner role, the database's passwords, the
# first admin's password (the migrate step alone creates that account).
MIGRATE_ONLY = frozenset(
    {"MIGRATION_DATABASE_URL", "POSTGRES_PASSWORD", "APP_DB_PASSWORD", "FIRST_SUPERUSER_PASSWORD"}
)
SETTING_NAMES = (
    "import json; from app.core.settings import Settings; "
    "print(json.dumps([name.upper() for name in Settings.model_fields]))"
)


@pytest.mark.stage("docker")
def test_compose_gives_each_container_only_the_settings_it_reads(project: Project) -> None:
    result = subprocess.run(
        [COMPOSE, "config", "--format", "json"],
        cwd=project.path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    settings = set(json.loads(project.python(SETTING_NAMES).stdout))
    environments = {
        name: service.get("environment") or {}
        for name, service in services.items()
        if "build" in service and service["build"]["context"] == str(project.path)
    }
    migrate = environments.pop("migrate")

    assert set(environments) >= {"api"}
    for name, environment in environments.items():
        assert MIGRATE_ONLY.isdisjoint(environment), name
        assert set(environment) <= settings, name
        assert make_url(environment["DATABASE_URL"]).username != "postgres", name
    assert set(migrate) <= settings
    assert make_url(migrate["MIGRATION_DATABASE_URL"]).username == "postgres"
    assert {"DATABASE_URL", "SECRET_KEY"} <= set(migrate)
    if project.answers()["with_auth"]:
        assert migrate["FIRST_SUPERUSER_PASSWORD"]
        # The entrypoint's --migrate runs the first admin's set-up after the migrations.
        assert services["migrate"]["command"] == ["--migrate"]
        assert 'SET_UP: tuple[str, ...] = ("app.auth.bootstrap",)' in project.read(
            "app/prestart.py"
        )


@pytest.mark.stage("docker")
def test_compose_refuses_to_start_without_secrets(project: Project) -> None:
    result = subprocess.run(
        [COMPOSE, "--env-file", "/dev/null", "config", "--quiet"],
        cwd=project.path,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "in .env" in result.stderr


@pytest.mark.stage("alembic")
def test_alembic_upgrade_check_downgrade(project: Project) -> None:
    url = project.new_database()

    # The commands `alembic` runs, in one process: each would import the app again.
    result = project.python(ALEMBIC_ROUND_TRIP, database_url=url)
    output = dict(part.split("\n", 1) for part in result.stdout.split("$ alembic ")[1:])

    assert "Running upgrade  -> 0001" in output["upgrade heads"]
    assert "No new upgrade operations detected" in output["check"]
    assert "Running downgrade 0001 -> , " in output["downgrade base"]
    assert "(head)" not in output["current"]


@pytest.mark.stage("suite")
def test_generated_test_suite_passes(
    project: Project, record_property: Callable[[str, object], None]
) -> None:
    url = project.migrated_database()

    result = project.run("pytest", "-q", *FOREIGN_PLUGINS, database_url=url)

    summary = result.stdout.strip().splitlines()[-1]
    record_property("summary", re.sub(r" in [\d.]+s.*", "", summary.strip("= ")))
    passed = re.search(r"(\d+) passed", summary)
    assert passed
    assert int(passed.group(1)) >= 50
    assert not re.search(r"failed|error", summary)


NOTE_MODEL = """
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]
"""


@pytest.mark.stage("alembic")
def test_new_revisions_are_numbered_lint_clean_and_never_empty(
    project: Project, tmp_path: Path
) -> None:
    # A copy, so that the extra model and revision do not reach the other tests.
    copy = Project(path=tmp_path / "service", pg=project.pg, interpreter=project.interpreter)
    shutil.copytree(project.path, copy.path, ignore=shutil.ignore_patterns(".*_cache"))
    versions = copy.path / "app/db/migrations/versions"
    shipped = sorted(p.name for p in versions.glob("*.py"))
    (copy.path / "app/models/note.py").write_text(NOTE_MODEL, encoding="utf-8")
    with (copy.path / "app/models/__init__.py").open("a", encoding="utf-8") as models:
        models.write("from app.models.note import Note  # noqa: F401\n")
    url = copy.migrated_database()
    revision = ["alembic", "revision", "--autogenerate", "--head", "heads"]

    try:
        copy.run(*revision, "-m", "add notes", database_url=url)
        copy.run("alembic", "upgrade", "heads", database_url=url)
        empty = subprocess.run(
            [copy.interpreter, "-m", *revision, "-m", "add nothing"],
            cwd=copy.path,
            env=copy.env(url),
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        copy.drop_databases()

    # Named like the shipped ones, in numbers of the project's own, above the template's.
    assert all(re.fullmatch(r"0\d{3}_[a-z0-9_]+\.py", name) for name in shipped), shipped
    new = sorted({p.name for p in versions.glob("*.py")} - set(shipped))
    assert new == ["1001_add_notes.py"]
    assert 'revision: str = "1001"' in (versions / new[0]).read_text(encoding="utf-8")
    copy.run("ruff", "check", str(versions / new[0]))
    copy.run("ruff", "format", "--check", str(versions / new[0]))
    # An autogenerate that found nothing writes nothing, says so and fails.
    assert empty.returncode == 1
    assert (
        empty.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "No changes between the models and the migrations: no revision 'add nothing' written"
        )
    )
    assert not list(versions.glob("*add_nothing*"))


@pytest.mark.stage("ruff")
def test_pre_commit_config_is_valid(project: Project) -> None:
    project.run("pre_commit", "validate-config", ".pre-commit-config.yaml")
