"""The generated image and compose stack, built and run on a real container engine.

Skipped, with the reason, where no engine can be had (tests/containers.py finds or starts
one). Base images the registry cannot serve are stand-ins, and the summary says which.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import containers
from tests.conftest import Project
from tests.ports import free_port
from tests.test_real_process import new_member, request
from tests.test_rendered_project import COMPOSE

# One render: each build and start costs as much as the rest of a render's checks, and no
# module changes the Dockerfile. The defaults and Celery: its stack holds every service
# of the default one, plus the worker and beat, which compose waits for until their own
# healthchecks pass (a ping the worker must answer, beat's heartbeat).
RENDERS = ["celery-only"]
# The healthchecks' own commands, asked more often than in production so that a change
# of state shows within seconds; their retries and timeouts stay as generated.
HEALTH_INTERVAL = "2s"


@dataclass(frozen=True)
class Images:
    app: str
    db: str
    # What each base image is: real, or a stand-in; for the run's summary.
    bases: tuple[str, ...]


@pytest.fixture(scope="session")
def engine() -> containers.Engine:
    try:
        return containers.find_engine()
    except containers.Unavailable as reason:
        pytest.skip(f"no container engine: {reason}")


@pytest.fixture(scope="session")
def images(engine: containers.Engine) -> Iterator[Callable[[Project], Images]]:
    """`images(project)`: the project's app and db images, built once per session."""
    built: dict[Path, Images] = {}

    def get(project: Project) -> Images:
        if project.path not in built:
            try:
                bases = tuple(
                    containers.ensure_image(engine, name)
                    for name in containers.base_images(project.answers()["python_version"])
                )
            except containers.Unavailable as reason:
                pytest.skip(f"no base images: {reason}")
            project.lock()  # the image installs what the lock holds
            tag = f"template-tests/{project.path.name}:{uuid.uuid4().hex[:12]}"
            app, db = f"{tag}-app", f"{tag}-db"
            engine.build(project.path, project.path / "Dockerfile", app)
            engine.build(project.path / "sql", project.path / "sql" / "db.Dockerfile", db)
            built[project.path] = Images(app, db, bases)
        return built[project.path]

    yield get
    for image in built.values():
        engine.run("rmi", image.app, image.db, check=False)


def compose_services(engine: containers.Engine, project: Project) -> dict[str, Any]:
    """The compose file's services as compose reads them with the project's .env."""
    result = subprocess.run(
        [COMPOSE, "config", "--format", "json"],
        cwd=project.path,
        env=compose_env(engine),
        capture_output=True,
        text=True,
        check=True,
    )
    services: dict[str, Any] = json.loads(result.stdout)["services"]
    return services


def compose_env(engine: containers.Engine, **extra: str) -> dict[str, str]:
    """Only what compose itself needs: the shell's variables would override .env's."""
    keep = ("PATH", "HOME", "DOCKER_HOST", "DOCKER_CONFIG")
    return {k: v for k, v in engine.env.items() if k in keep} | extra


def env_args(environment: dict[str, str | None]) -> list[str]:
    return [f"--env={name}={value}" for name, value in environment.items() if value is not None]


def shell_command(test: list[str]) -> str:
    """A compose healthcheck's test as `docker run --health-cmd` takes it: a shell line."""
    return test[1] if test[0] == "CMD-SHELL" else shlex.join(test[1:])


def record_bases(record_property: Callable[[str, object], None], images: Images) -> None:
    """Say which base images are stand-ins: here, and in the run's summary (conftest)."""
    for line in images.bases:
        print(line)
        record_property("base image", line)


def poll(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Ask `check` until it holds, at most `timeout` seconds; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {timeout}s")


def readiness(base: str) -> int:
    try:
        return request(f"{base}/health/ready")[0]
    except OSError:
        return 0


@pytest.mark.stage("container")
@pytest.mark.parametrize("render", RENDERS)
def test_the_image_migrates_then_serves_healthy_as_non_root(
    render: str,
    variant: Callable[[str], Project],
    engine: containers.Engine,
    images: Callable[[Project], Images],
    record_property: Callable[[str, object], None],
) -> None:
    project = variant(render)
    image = images(project)
    record_bases(record_property, image)
    services = compose_services(engine, project)
    run_id = uuid.uuid4().hex[:10]
    label = f"template-tests={run_id}"
    network = f"tpl-{run_id}"

    def start(name: str, image_name: str, *args: str, command: list[str] | None = None) -> str:
        container = f"tpl-{run_id}-{name}"
        engine.run(
            "run", "--detach", f"--label={label}", f"--name={container}",
            f"--network={network}", f"--network-alias={name}", *args, image_name,
            *(command or []),
        )  # fmt: skip
        return container

    with containers.cleaned_up(engine, label):
        engine.run("network", "create", f"--label={label}", network)
        db = start("db", image.db, *env_args(services["db"]["environment"]))
        # The backing services the API waits for in compose, with compose's healthchecks.
        backing = [s for s in services["api"]["depends_on"] if s not in ("db", "migrate")]
        started = [db]
        for name in backing:
            service = services[name]
            started.append(
                start(
                    name,
                    service["image"],
                    f"--health-cmd={shell_command(service['healthcheck']['test'])}",
                    f"--health-interval={HEALTH_INTERVAL}",
                    command=service.get("command") or [],
                )
            )
        for container in started:
            engine.wait_for_health(container, "healthy")

        migrate = services["migrate"]
        engine.run(
            "run", "--rm", f"--label={label}", f"--network={network}",
            *env_args(migrate["environment"]), image.app, *migrate["command"],
            timeout=300,
        )  # fmt: skip

        port = free_port()
        http_port = project.answers()["http_port"]
        api = start(
            "api", image.app, f"--publish=127.0.0.1:{port}:{http_port}",
            f"--health-interval={HEALTH_INTERVAL}", *env_args(services["api"]["environment"]),
        )  # fmt: skip
        seconds = engine.wait_for_health(api, "healthy")
        print(f"the API's own HEALTHCHECK said healthy after {seconds:.1f}s")
        # The server itself (the container's first process), not only what `exec` gets.
        status = engine.run("exec", api, "cat", "/proc/1/status").stdout
        ids = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        assert ids["Uid"].split()[:2] == ["1001", "1001"]
        assert ids["Gid"].split()[:2] == ["1001", "1001"]
        base = f"http://127.0.0.1:{port}"
        assert readiness(base) == 200

        engine.run("stop", db)
        poll(lambda: readiness(base) == 503, 30, "readiness with the database stopped")
        # The image's healthcheck is liveness: a database outage is no reason to restart.
        assert engine.state(api)["Health"]["Status"] == "healthy"


def override(services: dict[str, Any], images: Images) -> str:
    """A compose override for the test: the images built here, no host ports but the API's
    (the host's own PostgreSQL and Redis hold theirs), and quicker health checks."""
    lines = ["services:"]
    for name, service in services.items():
        lines.append(f"  {name}:")
        build = service.get("build")
        if build:
            built = images.db if Path(build["context"]).name == "sql" else images.app
            lines.append(f"    image: {built}")
        if name != "api" and service.get("ports"):
            lines.append("    ports: !reset []")
        if "healthcheck" in service:
            lines += ["    healthcheck:", f"      interval: {HEALTH_INTERVAL}"]
    return "\n".join(lines) + "\n"


@pytest.mark.stage("container")
@pytest.mark.parametrize("render", RENDERS)
def test_compose_up_serves_items_and_turns_unhealthy_without_its_database(
    render: str,
    variant: Callable[[str], Project],
    engine: containers.Engine,
    images: Callable[[Project], Images],
    record_property: Callable[[str, object], None],
    tmp_path: Path,
) -> None:
    project = variant(render)
    image = images(project)
    record_bases(record_property, image)
    services = compose_services(engine, project)
    name = f"tpl-{uuid.uuid4().hex[:10]}"
    (tmp_path / "override.yml").write_text(override(services, image), encoding="utf-8")
    port = free_port()
    env = compose_env(engine, HTTP_PORT=str(port))
    files = ["--file", "docker-compose.yml", "--file", str(tmp_path / "override.yml")]

    def compose(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [COMPOSE, "--project-name", name, *files, *args],
            cwd=project.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert result.returncode == 0, f"compose {' '.join(args)}:\n{result.stderr[-4000:]}"
        return result

    with containers.cleaned_up(engine, f"com.docker.compose.project={name}"):
        try:
            compose("up", "--detach", "--wait", "--wait-timeout", "240", "--no-build")
            base = f"http://127.0.0.1:{port}"
            token = new_member(project, base)
            status, created = request(f"{base}/api/v1/items", {"name": "bolt"}, token=token)
            assert status == 201, created
            assert request(f"{base}/api/v1/items/{created['id']}", token=token) == (
                200,
                created,
            )

            api = compose("ps", "--quiet", "api").stdout.strip()
            compose("stop", "db")
            seconds = engine.wait_for_health(api, "unhealthy", timeout=90)
            print(f"the API turned unhealthy {seconds:.1f}s after the database stopped")
            assert readiness(base) == 503
        finally:
            logs = subprocess.run(
                [COMPOSE, "--project-name", name, *files, "logs", "--no-color", "--tail", "40"],
                cwd=project.path, env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            print(logs.stdout[-6000:])
            compose("down", "--volumes", "--remove-orphans", "--timeout", "5")


@pytest.mark.stage("container")
@pytest.mark.parametrize("render", RENDERS)
def test_the_dev_stack_serves_the_working_tree_and_reloads_it(
    render: str,
    variant: Callable[[str], Project],
    engine: containers.Engine,
    images: Callable[[Project], Images],
    tmp_path: Path,
) -> None:
    project = variant(render)
    image = images(project)
    # A copy: the test edits the code.
    tree = Path(shutil.copytree(project.path, tmp_path / "service", symlinks=True))
    (tmp_path / "override.yml").write_text(
        override(compose_services(engine, project), image), encoding="utf-8"
    )
    name = f"tpl-{uuid.uuid4().hex[:10]}"
    port = free_port()
    files = ["docker-compose.yml", "docker-compose.dev.yml", str(tmp_path / "override.yml")]
    compose = [COMPOSE, "--project-name", name, *(f"--file={file}" for file in files)]
    env = compose_env(engine, HTTP_PORT=str(port))
    base = f"http://127.0.0.1:{port}"

    def title() -> str:
        try:
            status, document = request(f"{base}/openapi.json")
        except OSError:
            return ""
        return str(document["info"]["title"]) if status == 200 else ""

    with containers.cleaned_up(engine, f"com.docker.compose.project={name}"):
        try:
            up = [*compose, "up", "--detach", "--wait", "--wait-timeout", "240", "--no-build"]
            started = subprocess.run(
                [*up, "api"], cwd=tree, env=env, capture_output=True, text=True, check=False
            )
            assert started.returncode == 0, started.stderr[-4000:]
            assert title() == project.answers()["project_name"]
            about = tree / "app" / "core" / "about.py"
            about.write_text('NAME = "Reloaded"\n', encoding="utf-8")

            seconds = poll(lambda: title() == "Reloaded", 60, "the edited title served")
            print(f"the edit was served {seconds:.1f}s after it was saved")
        finally:
            logs = [*compose, "logs", "--no-color", "--tail", "40", "api"]
            result = subprocess.run(logs, cwd=tree, env=env, capture_output=True, text=True)
            print(result.stdout[-4000:])
            down = [*compose, "down", "--volumes", "--remove-orphans", "--timeout", "5"]
            subprocess.run(down, cwd=tree, env=env, capture_output=True, check=False)
