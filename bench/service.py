"""The generated service under load, beside the floor and the textbook app, in one run:
docs/benchmarks.md.

    python bench/service.py                   # 30 s per endpoint, 64 connections
    python bench/service.py --duration 10     # a quicker look
    python bench/service.py --duration 10 --service "default, cache off" --endpoint "item by id"

A run narrowed with --service or --endpoint (the floor and the textbook app are always
measured, for the ratios) prints its table and leaves docs/benchmarks.md as it is.

One run renders the default project and the all-modules project, migrates a fresh
database for each and seeds it with 10 000 items, starts each as its Dockerfile does (the
same command, one process, the environment only: the image has no .env), and loads it
with wrk from a second process on loopback: an item by id, a page of 20 sorted by
creation time, and a create. Each load is preceded by an unmeasured warm-up.
The default project is measured twice: as shipped (its cache on) and with
CACHE_ENABLED=false, where every read goes to PostgreSQL. The floor (bench/floor.py: raw
ASGI and asyncpg, the same queries and JSON) is served by the same uvicorn on the default
project's database and loaded identically, and so is the textbook app (bench/textbook.py:
the same requests as the FastAPI and SQLAlchemy tutorials write them, the peer a team
would otherwise write). It also measures start-up (process start to
the first healthy answer), resident memory after the load, and `copier copy` of the
default project.

Needs wrk (Debian: `apt-get install wrk`), PostgreSQL and Redis, found as the template's
tests find them (TEST_DATABASE_URL, TEST_REDIS_URL, else on localhost), and Python 3.12
(the default projects' version) as the tests find it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import asyncpg  # noqa: E402

from tests import pythons  # noqa: E402
from tests.ports import free_port  # noqa: E402
from tests.postgres import Server, find_server  # noqa: E402
from tests.redis_server import find_redis  # noqa: E402

REPORT = REPO_ROOT / "docs" / "benchmarks.md"
PROJECTS = {
    "default": {},
    "all modules": {"with_rate_limit": True, "with_celery": True, "with_mail": True},
}
FLOOR = "floor"


TEXTBOOK = "textbook"


@dataclass(frozen=True)
class Service:
    """A service measured; `peer` names a bench/ module serving the project's database in
    its place (the floor, the textbook app)."""

    name: str
    project: str
    env: dict[str, str] = field(default_factory=dict)
    peer: str = ""

    @property
    def floor(self) -> bool:
        return self.name == FLOOR


SERVICES = (
    Service("default", "default"),
    # The same project with every read served by PostgreSQL: what the code costs.
    Service("default, cache off", "default", {"CACHE_ENABLED": "false"}),
    Service(FLOOR, "default", peer="floor"),
    Service(TEXTBOOK, "default", peer="textbook"),
    Service("all modules", "all modules"),
)
SEED = 10_000
PASSWORD = "a long enough passphrase"
GET_ITEM = """
request = function()
  return wrk.format("GET", "/api/v1/items/" .. math.random(1, %d))
end
"""
# Names are unique among live items: each wrk thread numbers its own, under a run's prefix.
CREATE_ITEM = """
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"name": "%s-%%d-%%d", "quantity": 1}', id, n)
  return wrk.format("POST", "/api/v1/items", %s, body)
end
"""
LIST_PAGE = "/api/v1/items?limit=20&sort=-created_at"
ENDPOINTS = ("item by id", "list page of 20", "create")
VERSIONS = ("fastapi", "starlette", "pydantic", "sqlalchemy", "asyncpg", "uvicorn", "redis")


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]  # wrk's socket errors by kind, and non-2xx answers

    def errors_cell(self) -> str:
        total = sum(self.errors.values())
        kinds = ", ".join(f"{kind} {n}" for kind, n in self.errors.items() if n)
        return f"{total} ({kinds})" if total else "0"


@dataclass
class Measured:
    startup_seconds: float = 0.0
    rss_mib: float = 0.0
    loads: dict[str, Load] = field(default_factory=dict)
    # Requests/s over the floor's, measured just before and just after (the floor: its runs).
    ratios: dict[str, float] = field(default_factory=dict)
    floor_runs: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Running:
    """A service that is up: where it listens, and the wrk scripts that load it."""

    base: str
    scripts: dict[str, tuple[str, Path | None]]
    create_script: Path
    lua_headers: str


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=30, help="seconds per endpoint")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured seconds before each")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--service", action="append", choices=[s.name for s in SERVICES if not s.peer],
        help="measure only this service (repeatable); the report is printed, not written",
    )  # fmt: skip
    parser.add_argument(
        "--endpoint", action="append", choices=ENDPOINTS,
        help="load only this endpoint (repeatable); the report is printed, not written",
    )  # fmt: skip
    args = parser.parse_args()
    services = [s for s in SERVICES if s.peer or not args.service or s.name in args.service]
    endpoints = args.endpoint or list(ENDPOINTS)
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    scratch = Path(tempfile.mkdtemp(prefix="bench-"))
    pg = find_server(scratch / "postgres")
    redis_url, redis_server = find_redis(scratch / "redis")
    python = pythons.interpreter("3.12")
    copier_seconds = time_copier(scratch, repeats=5 if not args.service else 1)
    measured: dict[str, Measured] = {}
    databases: list[str] = []
    try:
        seeded = {}
        projects = {s.project for s in services}
        for project, answers in PROJECTS.items():
            if project not in projects:
                continue
            database = pg.create_database("bench")
            databases.append(database)
            destination = scratch / project.replace(" ", "-")
            path = seeded_project(destination, answers, pg, database, redis_url)
            seeded[project] = (path, database)
        with ExitStack() as running:
            up: dict[str, Running] = {}
            for service in services:
                path, seeded_database = seeded[service.project]
                # Each service starts from the same seeded rows: earlier creates do not count.
                database = pg.create_database("bench", template=seeded_database)
                databases.append(database)
                env = {**service_env(pg.database_url(database), redis_url), **service.env}
                command = dockerfile_command(path, python)
                if service.peer:
                    command, path = peer_command(command, service.peer), REPO_ROOT
                startups = [time_startup(command, path, env) for _ in range(4)]
                base, startup = running.enter_context(serve(command, path, env))
                startups.append(startup)
                measured[service.name] = Measured(startup_seconds=statistics.median(startups))
                up[service.name] = prepare(base, running.enter_context(scratch_dir()))
            load_all(up, measured, endpoints, args)
            for name, service_up in up.items():
                measured[name].rss_mib = rss_mib(service_up.base)
        versions = service_versions(python, pg.database_url("postgres", driver="postgresql"))
    finally:
        for database in reversed(databases):
            pg.drop_database(database)
        if redis_server is not None:
            redis_server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    table = report(measured, copier_seconds, versions, args)
    if args.service or args.endpoint:
        print(table)
    else:
        REPORT.write_text(table, encoding="utf-8")
        print(f"{table}\nwritten to {REPORT.relative_to(REPO_ROOT)}")
    return 0


def time_copier(scratch: Path, repeats: int) -> list[float]:
    seconds = []
    for n in range(repeats):
        started = time.monotonic()
        render(scratch / f"copier-{n}", {})
        seconds.append(time.monotonic() - started)
    return seconds


def render(destination: Path, answers: dict[str, Any]) -> Path:
    data = [f"--data={k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in answers.items()]
    copier = Path(sys.executable).parent / "copier"
    command = [str(copier), "copy", "--trust", "--defaults", "--quiet", "--vcs-ref=HEAD"]
    run([*command, *data, str(REPO_ROOT), str(destination)], REPO_ROOT, dict(os.environ))
    return destination


def seeded_project(
    destination: Path, answers: dict[str, Any], pg: Server, database: str, redis_url: str
) -> Path:
    """Render the project, migrate `database` (empty) with it and seed the items."""
    path = render(destination, answers)
    # The image is built without .env (.dockerignore): settings come from the environment.
    (path / ".env").unlink()
    python = pythons.interpreter("3.12")
    env = service_env(pg.database_url(database), redis_url)
    run([python, "-m", "alembic", "upgrade", "heads"], path, env)
    asyncio.run(seed(pg.database_url(database, driver="postgresql")))
    return path


def service_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ENVIRONMENT": "production",
        "SECRET_KEY": secrets.token_urlsafe(32),
        "DATABASE_URL": database_url,
        "MIGRATION_DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"bench-{secrets.token_hex(4)}",
        "CELERY_BROKER_URL": redis_url,
        # The load comes from one address: limits would answer it with 429s.
        "RATE_LIMIT_ENABLED": "false",
        # Nothing balances the load here: a drain before each stop would only wait.
        "SHUTDOWN_DRAIN_SECONDS": "0",
    }


def run(command: list[str], cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(
            f"`{' '.join(command)}` exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )


async def seed(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO items (name, description, quantity) "
            "SELECT 'item ' || n, 'seeded for the benchmark', n % 100 "
            f"FROM generate_series(1, {SEED}) AS n"
        )
        await connection.execute("ANALYZE items")
    finally:
        await connection.close()


def dockerfile_command(project: Path, python: str) -> list[str]:
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert match, "the Dockerfile has no exec-form CMD"
    command: list[str] = json.loads(match.group(1))
    command[0] = str(Path(python).parent / command[0])
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(free_port())
    return command


def peer_command(service: list[str], peer: str) -> list[str]:
    """The peer app under uvicorn as the service's `python -m app.serve` runs it:
    httptools, no access log."""
    python, port = service[0], service[service.index("--port") + 1]
    return [
        *(python, "-m", "uvicorn", "--factory", f"{peer}:create_app"),
        *("--app-dir", str(REPO_ROOT / "bench"), "--host", "127.0.0.1", "--port", port),
        "--no-access-log",
    ]


def time_startup(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    with serve(command, cwd, env) as (_, startup):
        return startup


@contextmanager
def scratch_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="wrk-"))
    try:
        yield path
    finally:
        shutil.rmtree(path)


def prepare(base: str, scripts: Path) -> Running:
    token = bearer(base)
    headers = {"Content-Type": "application/json", **({"Authorization": token} if token else {})}
    get_item = scripts / "get.lua"
    get_item.write_text(GET_ITEM % SEED, encoding="utf-8")
    create = scripts / "create.lua"
    loads: dict[str, tuple[str, Path | None]] = {
        "item by id": (f"{base}/", get_item),
        "list page of 20": (f"{base}{LIST_PAGE}", None),
        "create": (f"{base}/", create),
    }
    assert list(loads) == list(ENDPOINTS)
    lua_headers = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"
    return Running(base, loads, create, lua_headers)


def load(service: Running, endpoint: str, seconds: int, args: argparse.Namespace) -> Load:
    url, script = service.scripts[endpoint]
    if endpoint == "create":
        # A fresh prefix per run: the names of earlier runs are taken.
        prefix = f"bench-{secrets.token_hex(4)}"
        service.create_script.write_text(
            CREATE_ITEM % (prefix, service.lua_headers), encoding="utf-8"
        )
    return wrk(url, seconds, args, script)


def load_all(
    up: dict[str, Running],
    measured: dict[str, Measured],
    endpoints: list[str],
    args: argparse.Namespace,
) -> None:
    """Each endpoint: the floor, then each service followed by the floor again, every load
    the full duration. A service's ratio is over the mean of the floor runs on either side
    of it, so that a change in what else the machine is doing shifts both alike."""
    floor = up[FLOOR]
    services = [name for name in up if name != FLOOR]
    for endpoint in endpoints:
        if args.warmup:
            load(floor, endpoint, args.warmup, args)
        floor_loads = [load(floor, endpoint, args.duration, args)]
        for name in services:
            if args.warmup:
                load(up[name], endpoint, args.warmup, args)
            measured[name].loads[endpoint] = result = load(up[name], endpoint, args.duration, args)
            floor_loads.append(load(floor, endpoint, args.duration, args))
            around = statistics.mean(f.requests_per_second for f in floor_loads[-2:])
            measured[name].ratios[endpoint] = result.requests_per_second / around
        ranked = sorted(floor_loads, key=lambda f: f.requests_per_second)
        measured[FLOOR].loads[endpoint] = ranked[len(ranked) // 2]
        measured[FLOOR].ratios[endpoint] = 1.0
        measured[FLOOR].floor_runs[endpoint] = [f.requests_per_second for f in floor_loads]


SERVED: dict[str, int] = {}


@contextmanager
def serve(command: list[str], cwd: Path, env: dict[str, str]) -> Iterator[tuple[str, float]]:
    """Start the server; yield its base URL and how long it took to answer healthy."""
    port = command[command.index("--port") + 1]
    base = f"http://127.0.0.1:{port}"
    # A file, not a pipe: the services log every request, and a full pipe would stall them.
    with tempfile.TemporaryFile("w+") as log:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=log)
        try:
            while not healthy(base):
                if process.poll() is not None or time.monotonic() - started > 30:
                    log.seek(0)
                    sys.exit(f"{' '.join(command)} did not come up:\n{log.read()[-3000:]}")
                time.sleep(0.005)
            startup = time.monotonic() - started
            SERVED[base] = process.pid
            yield base, startup
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health/live", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def bearer(base: str) -> str | None:
    """A member's access token where the service has accounts (the floor has none)."""
    email = f"bench-{secrets.token_hex(4)}@example.com"
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    signup = urllib.request.Request(
        f"{base}/api/v1/auth/signup", data=body, headers={"Content-Type": "application/json"}
    )
    try:
        urllib.request.urlopen(signup, timeout=5).close()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise
    form = urllib.parse.urlencode({"username": email, "password": PASSWORD}).encode()
    with urllib.request.urlopen(f"{base}/api/v1/auth/token", data=form, timeout=5) as response:
        return f"Bearer {json.loads(response.read())['access_token']}"


def wrk(url: str, seconds: int, args: argparse.Namespace, script: Path | None = None) -> Load:
    command = [
        "wrk", "--latency", f"--threads={args.threads}", f"--connections={args.connections}",
        f"--duration={seconds}s", "--timeout=5s",
    ]  # fmt: skip
    if script is not None:
        command += ["--script", str(script)]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> Load:
    """wrk's --latency report as a Load; an error line wrk leaves out counts as none."""
    errors = {kind: int(n) for kind, n in re.findall(r"(connect|read|write|timeout) (\d+)", output)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors["non-2xx"] = int(non_2xx.group(1)) if non_2xx else 0
    return Load(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        errors=errors,
    )


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def rss_mib(base: str) -> float:
    status = Path(f"/proc/{SERVED[base]}/status").read_text(encoding="utf-8")
    kib = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return kib / 1024


def service_versions(python: str, dsn: str) -> dict[str, str]:
    """What the services ran on: their packages, PostgreSQL, Redis, wrk and the CPU."""
    script = (
        "import json, sys, importlib.metadata as m; "
        f"print(json.dumps({{'python': sys.version.split()[0], "
        f"**{{p: m.version(p) for p in {list(VERSIONS)!r}}}}}))"
    )
    versions: dict[str, str] = json.loads(
        subprocess.run([python, "-c", script], capture_output=True, text=True, check=True).stdout
    )
    versions["postgresql"] = asyncio.run(_fetch(dsn, "SHOW server_version"))
    wrk_banner = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    versions["wrk"] = wrk_banner.split()[1] if wrk_banner else "?"
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    versions["cpu"] = model.group(1) if model else platform.processor() or "?"
    return versions


async def _fetch(dsn: str, sql: str) -> str:
    connection = await asyncpg.connect(dsn)
    try:
        return str(await connection.fetchval(sql))
    finally:
        await connection.close()


def report(
    measured: dict[str, Measured],
    copier_seconds: list[float],
    versions: dict[str, str],
    args: argparse.Namespace,
) -> str:
    floor = measured[FLOOR]
    packages = ", ".join(f"{p} {versions[p]}" for p in VERSIONS)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python bench/service.py` (see its docstring); do not edit by hand.",
        "What the figures mean and what changed the code: [performance.md](performance.md).",
        "",
        f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M UTC} on {os.cpu_count()} cores "
        f"({versions['cpu']}), {platform.system()} {platform.machine()}; PostgreSQL "
        f"{versions['postgresql']} and Redis on the same machine, over loopback.",
        f"- Services: Python {versions['python']}, {packages}; one uvicorn process each, "
        "started with the generated Dockerfile's command and no .env.",
        f"- Load: wrk {versions['wrk']}, {args.threads} threads, {args.connections} connections, "
        f"{args.warmup} s warm-up then {args.duration} s per endpoint; {SEED} seeded items, the "
        "same rows for every service; item ids drawn uniformly from them.",
        "- Order, per endpoint: the floor, then each service followed by the floor again. A "
        "service's ratio is over the mean of the two floor runs on either side of it; the "
        "floor's row is its median run. Over textbook: the service's ratio over the "
        "textbook app's.",
        f"- `copier copy` of the default project: median {statistics.median(copier_seconds):.2f} s "
        f"of {len(copier_seconds)}.",
        "",
        "| Service | Endpoint | Requests/s | p50 | p99 | Errors | Ratio to floor | Over textbook |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    ratios = {name: _ratios(result, floor) for name, result in measured.items()}
    textbook = ratios.get(TEXTBOOK, {})
    for name, result in measured.items():
        for endpoint, run in result.loads.items():
            ratio = ratios[name][endpoint]
            over = f"{ratio / textbook[endpoint]:.2f}" if endpoint in textbook else "-"
            lines.append(
                f"| {name} | {endpoint} | {run.requests_per_second:.0f} | {run.p50_ms:.2f} ms "
                f"| {run.p99_ms:.2f} ms | {run.errors_cell()} | {ratio:.2f} | {over} |"
            )
    if floor.floor_runs:
        runs = "; ".join(
            f"{endpoint} {', '.join(f'{rps:.0f}' for rps in rps_list)}"
            for endpoint, rps_list in floor.floor_runs.items()
        )
        lines += ["", f"The floor's runs, in order (requests/s): {runs}."]
    lines += [
        "",
        "| Service | Start-up to healthy (median of 5) | Resident memory after load |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {r.startup_seconds:.2f} s | {r.rss_mib:.0f} MiB |"
        for name, r in measured.items()
    ]
    return "\n".join(lines) + "\n"


def _ratios(result: Measured, floor: Measured) -> dict[str, float]:
    """Requests/s over the floor's, per endpoint: measured around the run, else over the
    floor's median run."""
    return {
        endpoint: result.ratios.get(
            endpoint, run.requests_per_second / floor.loads[endpoint].requests_per_second
        )
        for endpoint, run in result.loads.items()
    }


if __name__ == "__main__":
    sys.exit(main())
