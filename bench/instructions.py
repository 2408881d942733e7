"""Instructions per request of the generated service, the floor and the textbook app,
counted by callgrind.

    python bench/instructions.py                     # item by id, the list page, a create
    python bench/instructions.py --endpoint "item by id" --requests 500

wrk's requests/s move with whatever else runs on the machine; the instructions a request
costs do not. This renders the default project, migrates and seeds a database as
bench/service.py does, and calls each app's ASGI callable in process
(bench/asgi_driver.py), one request after another: no HTTP server and no client, the
real PostgreSQL and Redis behind. Each count is two runs under `valgrind
--tool=callgrind` with the same start-up and warm-up, one with N more requests and one
without; the difference over N is the instructions per request (start-up, imports and
shutdown cancel out). PYTHONHASHSEED is fixed, so a count repeats to within 1% (the same
create twice: 3 909 986 and 3 909 915). The ids read cycle over those of the warm-up:
with the cache on, the measured reads are hits, as most reads under wrk are. Where the
app has accounts, a member signs up before the counts, outside callgrind, and every
counted request carries their bearer token, as under wrk; each create names a new item.

What uvicorn and the kernel spend on the HTTP side is not counted: it is the same for
every app, which is why ratios of requests/s under wrk are closer to 1 than these.
Needs valgrind (Debian: `apt-get install valgrind`), and what bench/service.py needs
but wrk.
"""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import service  # noqa: E402

from tests import pythons  # noqa: E402
from tests.postgres import find_server  # noqa: E402
from tests.redis_server import find_redis  # noqa: E402

DRIVER = BENCH / "asgi_driver.py"
FACTORY = "app.main:create_app"  # the generated Dockerfile's
ENDPOINTS = {
    "item by id": "/api/v1/items/{n}",
    "list page of 20": service.LIST_PAGE,
    "create": "POST /api/v1/items",
}
# bench/service.py's services of the default project, the floor first.
APPS = sorted((s for s in service.SERVICES if s.project == "default"), key=lambda s: not s.floor)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="counted requests per app")
    parser.add_argument("--warmup", type=int, default=100, help="requests before counting")
    parser.add_argument("--endpoint", action="append", choices=list(ENDPOINTS))
    args = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind is needed: apt-get install valgrind")

    scratch = Path(tempfile.mkdtemp(prefix="instructions-"))
    pg = find_server(scratch / "postgres")
    redis_url, redis_server = find_redis(scratch / "redis")
    python = pythons.interpreter("3.12")
    database = pg.create_database("instructions")
    try:
        project = service.seeded_project(scratch / "default", {}, pg, database, redis_url)
        url = pg.database_url(database)
        jobs = [(app, endpoint) for endpoint in args.endpoint or list(ENDPOINTS) for app in APPS]
        with ThreadPoolExecutor() as pool:
            counts = list(
                pool.map(
                    lambda job: per_request(
                        python, job[0], ENDPOINTS[job[1]], project, url, redis_url, args
                    ),
                    jobs,
                )
            )
    finally:
        pg.drop_database(database)
        if redis_server is not None:
            redis_server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    names = [(app.name, endpoint) for app, endpoint in jobs]
    print(report(dict(zip(names, counts, strict=True)), args))
    return 0


# Under callgrind a request runs some fifty times slower than natively, slower still on a
# busy machine: timeouts sized for real time would turn measured requests into 503s.
UNHURRIED = {
    "DB_CONNECT_TIMEOUT": "120",
    "DB_COMMAND_TIMEOUT": "120",
    "DB_POOL_TIMEOUT": "120",
    "DB_STATEMENT_TIMEOUT_MS": "0",
    "REDIS_TIMEOUT_SECONDS": "60",
}


def per_request(
    python: str,
    app: service.Service,
    path: str,
    project: Path,
    database_url: str,
    redis_url: str,
    args: argparse.Namespace,
) -> float:
    factory, app_dir = (f"{app.peer}:create_app", BENCH) if app.peer else (FACTORY, project)
    # The same secret for the member's token and the counted runs.
    env = {**service.service_env(database_url, redis_url), **app.env, **UNHURRIED}
    signed_up = subprocess.run(
        [python, str(DRIVER), factory, "member", str(app_dir)],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    if signed_up.returncode != 0:
        sys.exit(f"{app.name} could not sign a member up:\n{signed_up.stderr[-3000:]}")
    env["BENCH_AUTHORIZATION"] = authorization(signed_up.stdout)

    def count(requests: int) -> int:
        # A fresh key prefix each run: the cache starts empty for both.
        prefix = f"bench-{secrets.token_hex(4)}"
        run_env = {**env, "REDIS_KEY_PREFIX": prefix, "PYTHONHASHSEED": "0"}
        command = [
            "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python,
            str(DRIVER), factory, path, str(requests), str(args.warmup), str(app_dir),
        ]  # fmt: skip
        result = subprocess.run(command, cwd=project, env=run_env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"{app.name} failed under callgrind:\n{result.stderr[-3000:]}")
        return collected(result.stderr)

    return (count(args.requests) - count(0)) / args.requests


def authorization(stdout: str) -> str:
    """The header `asgi_driver.py ... member` printed among the app's log lines, or ""."""
    headers = [line for line in stdout.splitlines() if line.startswith("Bearer ")]
    return headers[-1] if headers else ""


def collected(stderr: str) -> int:
    """The instruction count callgrind prints on exit."""
    match = re.search(r"^==\d+== Collected : (\d+)$", stderr, re.MULTILINE)
    if match is None:
        raise ValueError("callgrind printed no instruction count")
    return int(match.group(1))


def report(counts: dict[tuple[str, str], float], args: argparse.Namespace) -> str:
    """`counts`: instructions per request by app name and endpoint, the floor's among them
    (and the textbook app's, where it was counted)."""
    lines = [
        f"Instructions per request (callgrind, in process, {args.requests} requests after "
        f"{args.warmup}):",
        "",
        "| App | Endpoint | Instructions per request | Floor's count over the app's "
        "| Textbook's count over the app's |",
        "|---|---|---:|---:|---:|",
    ]
    floors = {endpoint: n for (name, endpoint), n in counts.items() if name == service.FLOOR}
    textbook = {endpoint: n for (name, endpoint), n in counts.items() if name == service.TEXTBOOK}
    for (name, endpoint), n in counts.items():
        over = f"{textbook[endpoint] / n:.2f}" if endpoint in textbook else "-"
        lines.append(f"| {name} | {endpoint} | {n:,.0f} | {floors[endpoint] / n:.2f} | {over} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
