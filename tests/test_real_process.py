"""The service started the way its Dockerfile starts it, against a real database."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Inbox, Project, env_values, render
from tests.ports import free_port
from tests.postgres import Server
from tests.redis_server import RedisProcess


def dockerfile_exec(project: Project, instruction: str) -> list[str]:
    """An exec-form instruction of the Dockerfile (`CMD`, `ENTRYPOINT`), as a list."""
    match = re.search(rf"^{instruction} (\[.*\])$", project.read("Dockerfile"), re.MULTILINE)
    assert match, f"the Dockerfile has no exec-form {instruction}"
    command: list[str] = json.loads(match.group(1))
    return command


def migrate_command(project: Project) -> list[str]:
    """What the compose migrate service runs: the image's entrypoint with its command."""
    services = yaml.safe_load(project.read("docker-compose.yml"))["services"]
    command: list[str] = services["migrate"]["command"]
    entrypoint = dockerfile_exec(project, "ENTRYPOINT")
    assert entrypoint[0] == "python"
    return [project.interpreter, *entrypoint[1:], *command]


def dockerfile_command(project: Project) -> list[str]:
    """What the container runs: its entrypoint, with the CMD as the entrypoint's arguments."""
    return [*dockerfile_exec(project, "ENTRYPOINT"), *dockerfile_exec(project, "CMD")]


def request(
    url: str,
    body: dict[str, object] | None = None,
    *,
    form: dict[str, str] | None = None,
    token: str | None = None,
) -> tuple[int, Any]:
    return request_method(None, url, body, form=form, token=token)


def http_request(
    method: str | None,
    url: str,
    body: object = None,
    *,
    form: dict[str, str] | None = None,
    token: str | None = None,
) -> urllib.request.Request:
    """A request with a JSON body (or a form), and a bearer token if one is given."""
    headers = {"Content-Type": "application/json"}
    data = json.dumps(body).encode() if body is not None else None
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        data = urllib.parse.urlencode(form).encode()
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return urllib.request.Request(url, data=data, headers=headers, method=method)


def request_method(
    method: str | None,
    url: str,
    body: dict[str, object] | None = None,
    *,
    form: dict[str, str] | None = None,
    token: str | None = None,
) -> tuple[int, Any]:
    req = http_request(method, url, body, form=form, token=token)
    try:
        with urllib.request.urlopen(req, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_until_healthy(base: str, process: subprocess.Popen[str], timeout: float = 30) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        assert process.poll() is None, f"the service exited:\n{process.stdout.read()}"  # type: ignore[union-attr]
        try:
            if request(f"{base}/health/live")[0] == 200:
                return time.monotonic() - started
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"no healthy answer within {timeout}s")


@contextmanager
def started(
    project: Project, env: dict[str, str], port: int | None = None, output: list[str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start the Dockerfile's CMD as a real process, with the project's interpreter (on
    `port`, else the CMD's); yield its base URL once it is healthy, and the process. Once
    it has stopped, `output` holds every line it wrote after it was healthy."""
    command = dockerfile_command(project)
    assert command[0] == "python"
    command = [project.interpreter, *command[1:]]
    # The container binds 0.0.0.0; here loopback is enough.
    command[command.index("--host") + 1] = "127.0.0.1"
    if port is not None:
        command[command.index("--port") + 1] = str(port)
    port = int(command[command.index("--port") + 1])
    # The drain before shutdown has tests of its own; everywhere else it only slows a stop.
    env = {"SHUTDOWN_DRAIN_SECONDS": "0", **env}
    process = subprocess.Popen(
        command,
        cwd=project.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    # Read as it is written: a pipe nobody reads fills up and then blocks the service.
    tail: deque[str] = deque(maxlen=100)

    def read() -> None:
        for line in process.stdout or ():
            tail.append(line)
            if output is not None:
                output.append(line)

    reader = threading.Thread(target=read, daemon=True)
    try:
        wait_until_healthy(base, process)
        reader.start()
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=30)
        if reader.is_alive():
            reader.join(timeout=10)
        else:
            tail.extend(process.stdout or ())
        print("".join(tail)[-3000:])


@contextmanager
def serve(project: Project, env: dict[str, str], port: int | None = None) -> Iterator[str]:
    with started(project, env, port) as (base, _):
        yield base


def sign_in(base: str, email: str, password: str) -> str:
    status, tokens = request(
        f"{base}/api/v1/auth/token", form={"username": email, "password": password}
    )
    assert status == 200, tokens
    token: str = tokens["access_token"]
    return token


def new_member(project: Project, base: str) -> str | None:
    """With auth on: sign a new member up over HTTP and return their access token."""
    if not project.answers().get("with_auth", False):
        return None
    assert request(f"{base}/api/v1/items", {"name": "bolt"})[0] == 401
    email, password = f"{uuid.uuid4().hex[:8]}@example.com", "a long enough passphrase"
    assert request(f"{base}/api/v1/auth/signup", {"email": email, "password": password})[0] == 201
    return sign_in(base, email, password)


@pytest.mark.stage("process")
def test_started_as_in_the_dockerfile_it_serves_health_and_items(project: Project) -> None:
    url = project.new_database()
    project.run("alembic", "upgrade", "heads", database_url=url)
    env = project.env(url, ENVIRONMENT="production", LOG_FORMAT="json")

    with serve(project, env) as base:
        status, health = request(f"{base}/health/ready")
        assert status == 200
        assert health["status"] == "ok"
        assert set(health["checks"].values()) == {"ok"}
        assert ("redis" in health["checks"]) == ("redis" in project.read("pyproject.toml"))
        token = new_member(project, base)
        status, created = request(f"{base}/api/v1/items", {"name": "bolt"}, token=token)
        assert status == 201
        assert request(f"{base}/api/v1/items/{created['id']}") == (200, created)
        status, error = request(f"{base}/api/v1/items", {"name": ""}, token=token)
        assert status == 422
        assert error["error"]["code"] == "validation_error"


def client_logged(project: Project, env: dict[str, str], headers: dict[str, str]) -> str:
    """The client address the service logs for one request sent with `headers`."""
    request_id = uuid.uuid4().hex
    output: list[str] = []
    with started(project, env | {"LOG_FORMAT": "json"}, output=output) as (base, _):
        sent = urllib.request.Request(
            f"{base}/health/live", headers={**headers, "X-Request-ID": request_id}
        )
        with urllib.request.urlopen(sent, timeout=5) as response:
            assert response.status == 200
    lines = [json.loads(line) for line in output if line.startswith("{")]
    (logged,) = [
        line
        for line in lines
        if line.get("request_id") == request_id and line["event"] == "request"
    ]
    client: str = logged["client"]
    return client


@pytest.mark.stage("process")
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    default_project: Project,
) -> None:
    env = default_project.env(default_project.migrated_database())
    forged = {"X-Forwarded-For": "203.0.113.9"}

    # The default trusts no proxy: not even one on the same host, as uvicorn's would.
    assert client_logged(default_project, env, forged) == "127.0.0.1"
    trusted = env | {"TRUSTED_PROXIES": '["10.0.0.0/8"]'}
    assert client_logged(default_project, trusted, forged) == "127.0.0.1"
    # From a trusted proxy, the client is the last address no trusted proxy added.
    trusted = env | {"TRUSTED_PROXIES": '["127.0.0.0/8"]'}
    assert client_logged(default_project, trusted, forged) == "203.0.113.9"
    chain = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9, 127.0.0.5"}
    assert client_logged(default_project, trusted, chain) == "203.0.113.9"


def test_the_first_admin_from_env_can_sign_in(default_project: Project) -> None:
    """The generated .env names an admin with a generated password; compose's migrate step
    creates it (the API, which never gets that password, does not)."""
    url = default_project.new_database()
    step = subprocess.run(
        migrate_command(default_project),
        cwd=default_project.path,
        env=default_project.env(url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert step.returncode == 0, step.stdout + step.stderr
    local = env_values(default_project.read(".env"))

    with serve(default_project, default_project.env(url)) as base:
        token = sign_in(base, local["FIRST_SUPERUSER_EMAIL"], local["FIRST_SUPERUSER_PASSWORD"])
        status, me = request(f"{base}/api/v1/users/me", token=token)

    assert status == 200
    assert me["is_admin"] is True


def test_production_refuses_a_placeholder_secret(default_project: Project) -> None:
    env = default_project.env(
        default_project.pg.database_url("postgres"),
        ENVIRONMENT="production",
        SECRET_KEY="change-me",
    )
    result = subprocess.run(
        [default_project.interpreter, "-c", "from app.main import create_app; create_app()"],
        cwd=default_project.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is a placeholder" in result.stderr


def init_db(path: Path, pg: Server, app_password: str | None) -> subprocess.CompletedProcess[str]:
    """Run sql/init_db.sql as the compose db container does: as the superuser, with the
    application role's password (or none) in the environment."""
    env = {k: v for k, v in os.environ.items() if k != "APP_DB_PASSWORD"}
    if app_password is not None:
        env["APP_DB_PASSWORD"] = app_password
    return psql(
        pg.database_url("postgres", driver="postgresql"),
        "--file",
        "sql/init_db.sql",
        cwd=path,
        env=env,
    )


def psql(
    url: str, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["psql", "--no-psqlrc", "--quiet", url, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class Provisioned:
    project: Project
    database: str
    app_password: str


@pytest.fixture
def provisioned(copier_template: Path, tmp_path: Path, pg: Server) -> Iterator[Provisioned]:
    """A project whose databases and role were created by its own sql/init_db.sql."""
    if not shutil.which("psql") or not pg.can_create_roles():
        pytest.skip("needs psql and a PostgreSQL role that may create roles")
    database = f"tpl_{uuid.uuid4().hex[:10]}"
    path = render(
        copier_template, tmp_path / "service", database_name=database, http_port=free_port()
    )
    project = Project(path=path, pg=pg)
    password = uuid.uuid4().hex
    try:
        result = init_db(path, pg, password)
        assert result.returncode == 0, result.stderr
        yield Provisioned(project=project, database=database, app_password=password)
    finally:
        for name in (database, f"{database}_test"):
            pg.drop_database(name)
        pg.admin(f"DROP ROLE IF EXISTS {database}_app")


def test_init_db_sql_creates_a_least_privilege_role(provisioned: Provisioned) -> None:
    project, database = provisioned.project, provisioned.database
    app_url = project.pg.url.set(
        drivername="postgresql+asyncpg",
        database=database,
        username=f"{database}_app",
        password=provisioned.app_password,
    ).render_as_string(hide_password=False)
    # Migrations run as the owner (the superuser), as the compose migrate service does.
    project.run("alembic", "upgrade", "heads", database_url=project.pg.database_url(database))

    # The application role reads and writes rows through the running service...
    env = project.env(app_url)
    with serve(project, env) as base:
        token = new_member(project, base)
        status, _ = request(f"{base}/api/v1/items", {"name": "made by the app role"}, token=token)
        assert status == 201

    # ...but may not change the schema.
    ddl = psql(app_url.replace("+asyncpg", ""), "-c", "CREATE TABLE intruder (id int)")
    assert ddl.returncode != 0
    assert "permission denied" in ddl.stderr


def test_init_db_sql_refuses_to_run_without_a_password(
    copier_template: Path, tmp_path: Path, pg: Server
) -> None:
    if not shutil.which("psql"):
        pytest.skip("needs psql")
    path = render(copier_template, tmp_path / "service", database_name="never_created")
    result = init_db(path, pg, app_password=None)

    assert result.returncode != 0
    assert "APP_DB_PASSWORD must be set" in result.stderr


def test_stopping_redis_mid_traffic_leaves_the_api_answering(
    default_project: Project, tmp_path: Path
) -> None:
    url = default_project.new_database()
    default_project.run("alembic", "upgrade", "heads", database_url=url)
    redis = RedisProcess(tmp_path / "redis")
    env = default_project.env(url, REDIS_URL=redis.url)

    try:
        with serve(default_project, env) as base:
            token = new_member(default_project, base)
            status, item = request(f"{base}/api/v1/items", {"name": "bolt"}, token=token)
            assert status == 201
            warm = [request(f"{base}/api/v1/items/{item['id']}") for _ in range(2)]
            assert request(f"{base}/api/v1/items")[0] == 200  # the list is now cached
            assert request(f"{base}/health/ready")[1]["checks"]["redis"] == "ok"

            redis.stop()
            cold = [request(f"{base}/api/v1/items/{item['id']}") for _ in range(3)]
            listed = request(f"{base}/api/v1/items")
            ready = request(f"{base}/health/ready")
            patched = request_method(
                "PATCH", f"{base}/api/v1/items/{item['id']}", {"quantity": 5}, token=token
            )
    finally:
        redis.stop()

    assert warm == [(200, item), (200, item)]
    assert cold == [(200, item)] * 3
    assert listed[0] == 200
    assert listed[1]["total"] == 1
    assert ready == (
        200,
        {"status": "degraded", "checks": {"database": "ok", "redis": "unavailable"}},
    )
    assert patched[0] == 200
    assert patched[1]["quantity"] == 5


def test_a_sign_up_gets_a_confirmation_link_through_a_real_smtp_server(
    variant: Callable[[str], Project], smtp: tuple[int, Inbox]
) -> None:
    project = variant("mail-only")  # auth on, mail sent by the API process itself
    url = project.new_database()
    project.run("alembic", "upgrade", "heads", database_url=url)
    _, inbox = smtp
    email = f"{uuid.uuid4().hex[:8]}@example.com"

    with serve(project, project.env(url)) as base:
        status, _ = request(
            f"{base}/api/v1/auth/signup", {"email": email, "password": "a long passphrase"}
        )
        deadline = time.monotonic() + 10
        while not any(email.encode() in m for m in inbox.messages) and time.monotonic() < deadline:
            time.sleep(0.05)

    assert status == 201
    # Not a welcome: nothing but the confirmation link goes to an unconfirmed address.
    (confirmation,) = [m for m in inbox.messages if email.encode() in m]
    assert b"Subject: Confirm your e-mail address" in confirmation
