"""The generated CI workflow, run as GitHub runs it: each job's steps in order, in a checkout
of the project's commit, with the job's environment, and each step's `if:` obeyed.

The harness plays the actions: actions/checkout is a `git clone` of the committed project,
so CI sees only what a team commits; actions/setup-python puts a CPython of the version the
step names first on PATH as `python`. The job's service containers are this machine's own
servers on the ports the workflow maps (PostgreSQL on 5432, Redis on 6379), as on the CI
machine; where nothing answers there as the workflow logs in, the test skips and says so.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml
from sqlalchemy.engine import make_url

from tests import containers, pythons
from tests.conftest import SERVICE_VARIABLES, render
from tests.ports import free_port
from tests.postgres import Server
from tests.releases import git
from tests.test_rendered_project import COMPOSE
from tests.test_update import EVERYTHING, commit


@dataclass(frozen=True)
class Workflow:
    project: Path
    jobs: dict[str, Any]
    answers: dict[str, Any]


@dataclass(frozen=True)
class StepRun:
    name: str
    returncode: int
    output: str


@pytest.fixture(scope="module")
def workflow(copier_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workflow]:
    """Every module on, locked and committed, with a database name of its own: `make db`
    creates that database, its test database and its role, dropped afterwards."""
    name = f"tpl_wf_{uuid.uuid4().hex[:12]}"
    answers = {"database_name": name, "http_port": free_port(), **EVERYTHING}
    path = render(
        copier_template, tmp_path_factory.mktemp("workflow") / "service", lock=True, **answers
    )
    git("init", "--quiet", "--initial-branch=main", cwd=path)
    commit(path, "Generated from the template")
    jobs = yaml.safe_load((path / ".github/workflows/ci.yml").read_text(encoding="utf-8"))["jobs"]
    answers = yaml.safe_load((path / ".copier-answers.yml").read_text(encoding="utf-8"))
    yield Workflow(path, jobs, answers)
    server = Server(make_url(postgres_url(jobs["check"])))
    if reachable(server):
        for database in (name, f"{name}_test"):
            server.drop_database(database)
        server.admin(f'DROP ROLE IF EXISTS "{name}_app"')


def postgres_url(job: dict[str, Any]) -> str:
    """The superuser's URL the job migrates with, on the server's `postgres` database."""
    url = make_url(job["env"]["MIGRATION_DATABASE_URL"]).set(drivername="postgresql")
    return url.set(database="postgres").render_as_string(hide_password=False)


def reachable(server: Server) -> bool:
    try:
        server.admin("SELECT 1")
    except (OSError, asyncpg.PostgresError):
        return False
    return True


def require_services(job: dict[str, Any]) -> None:
    """Skip unless each service the job declares answers on the host port it maps."""
    for name, service in job.get("services", {}).items():
        (mapping,) = service["ports"]
        port = int(mapping.split(":")[0])
        if name == "postgres":
            server = Server(make_url(postgres_url(job)))
            if not reachable(server):
                pytest.skip(f"the workflow's postgres service: nothing answers at {server.url}")
        else:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) != 0:
                    pytest.skip(f"the workflow's {name} service: nothing listens on {port}")


def runner_env(**extra: str) -> dict[str, str]:
    """A runner's environment: this machine's (its proxy and CA settings), none of the
    service's variables, and what GitHub sets for every step."""
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    return env | {"CI": "true", "GITHUB_ACTIONS": "true"} | extra


def run_job(
    job: dict[str, Any], project: Path, checkout: Path, env: dict[str, str]
) -> list[StepRun]:
    """Run the job's steps as a runner does, the checkout at `checkout`; the runs of its
    `run:` steps."""
    env = env | {name: str(value) for name, value in job.get("env", {}).items()}
    runs: list[StepRun] = []
    for step in job["steps"]:
        failed = any(run.returncode for run in runs)
        condition = step.get("if", "success()")
        due = {"success()": not failed, "failure()": failed, "always()": True}
        assert condition in due, f"a condition the harness cannot judge: {condition}"
        if not due[condition]:
            continue
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            git("clone", "--quiet", str(project), str(checkout), cwd=project)
        elif uses.startswith("actions/setup-python@"):
            tools = checkout.with_name("python-bin")
            tools.mkdir()
            found = pythons.find_python(str(step["with"]["python-version"]))
            for name in ("python", "python3"):
                (tools / name).symlink_to(found)
            env = env | {"PATH": f"{tools}{os.pathsep}{env['PATH']}"}
        else:
            assert not uses, f"an action the harness cannot play: {uses}"
            # GitHub's default shell for `run:`.
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                cwd=checkout,
                env=env | {k: str(v) for k, v in step.get("env", {}).items()},
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            name = step.get("name", step["run"].splitlines()[0])
            runs.append(StepRun(name, result.returncode, result.stdout + result.stderr))
    return runs


def without_host_ports(compose_file: Path) -> str:
    """A compose override that publishes only the API's port."""
    services = yaml.safe_load(compose_file.read_text(encoding="utf-8"))["services"]
    published = [n for n, service in services.items() if n != "api" and "ports" in service]
    return "services:\n" + "".join(f"  {n}:\n    ports: !reset []\n" for n in published)


def assert_green(runs: list[StepRun]) -> None:
    failed = [run for run in runs if run.returncode]
    assert not failed, "\n\n".join(
        f"{r.name} exited {r.returncode}:\n{r.output[-5000:]}" for r in runs
    )


def test_the_check_job_installs_from_the_lock_checks_and_tests_as_the_app_role(
    workflow: Workflow, tmp_path: Path
) -> None:
    job = workflow.jobs["check"]
    require_services(job)

    runs = run_job(job, workflow.project, tmp_path / "checkout", runner_env())

    assert_green(runs)
    assert [r.name for r in runs if r.name.startswith("make")] == [
        "make install PYTHON=python", "make lint", "make typecheck", "make db", "make test"
    ]  # fmt: skip
    tests = next(r for r in runs if r.name == "make test").output.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", tests), tests
    assert not re.search(r"failed|error", tests), tests
    # The tests ran against the databases and as the role `make db` made.
    database = workflow.answers["database_name"]
    test_url = make_url(job["env"]["TEST_DATABASE_URL"])
    assert (test_url.username, test_url.database) == (f"{database}_app", f"{database}_test")


@pytest.mark.stage("container")
def test_the_image_job_builds_and_serves_healthy_through_compose(
    workflow: Workflow, tmp_path: Path
) -> None:
    try:
        engine = containers.find_engine()
        compose_file = workflow.project / "docker-compose.yml"
        for name in containers.base_images(workflow.answers["python_version"], compose_file):
            print(containers.ensure_image(engine, name))
    except containers.Unavailable as reason:
        pytest.skip(f"no container engine or base images: {reason}")
    # A runner's docker has the compose plugin: this one, as the CLI finds plugins.
    config = tmp_path / "docker-config"
    (config / "cli-plugins").mkdir(parents=True)
    (config / "cli-plugins" / "docker-compose").symlink_to(COMPOSE)
    # Two differences from a runner, for compose alone: a stack name of its own, and no
    # host ports but the API's, which this machine's own servers hold.
    checkout = tmp_path / "checkout"
    name = f"tplwf{uuid.uuid4().hex[:10]}"
    override = tmp_path / "override.yml"
    override.write_text(without_host_ports(compose_file), encoding="utf-8")
    env = runner_env(**engine.env) | {
        "DOCKER_CONFIG": str(config),
        "COMPOSE_PROJECT_NAME": name,
        "COMPOSE_FILE": f"{checkout / 'docker-compose.yml'}{os.pathsep}{override}",
    }
    env = {k: v for k, v in env.items() if k not in SERVICE_VARIABLES}

    with containers.cleaned_up(engine, f"com.docker.compose.project={name}"):
        runs = run_job(workflow.jobs["image"], workflow.project, checkout, env)

    assert_green(runs)
    assert "The logs of a stack that failed" not in [r.name for r in runs]
    assert runs[-1].name == "Stop the stack"
