"""The web servers of the `server` question at 1 and 2 workers, in one run: docs/servers.md.

    python bench/web_servers.py                  # 3 rounds, 10 s per load
    python bench/web_servers.py --rounds 1 --duration 5    # a quicker look (printed only)

The default project is rendered once per server, migrated and seeded with 10 000 items
(bench/service.py's seeding). Each row (a server at WEB_CONCURRENCY=1 or 2, and the floor:
bench/floor.py under one uvicorn process) has its own copy of the seeded database. A round
starts each row in turn as the Dockerfile starts it, loads it with wrk from a second
process on loopback, an item by id and then a create, each after an unmeasured warm-up,
and stops it; rounds repeat that order, so that a drift in what else the machine does
spreads over all of them. A row's figures are the medians of its rounds; the ratio is its
requests/s over the floor's in the same round, then the median. Resident memory is the
server's processes together (master and workers) after the load, the largest of the rounds.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "extensions"))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from servers import SERVERS  # noqa: E402
from service import (  # noqa: E402
    SEED,
    SERVED,
    Load,
    dockerfile_command,
    load,
    peer_command,
    prepare,
    render,
    scratch_dir,
    seeded_project,
    serve,
    service_env,
    service_versions,
)

from tests import pythons  # noqa: E402
from tests.postgres import find_server  # noqa: E402
from tests.redis_server import find_redis  # noqa: E402

REPORT = REPO_ROOT / "docs" / "servers.md"
ENDPOINTS = ("item by id", "create")
WORKERS = (1, 2)
FLOOR = "floor (uvicorn, 1 process)"


@dataclass
class Row:
    loads: dict[str, list[Load]] = field(default_factory=dict)
    ratios: dict[str, list[float]] = field(default_factory=dict)
    rss_mib: float = 0.0


def tree_rss_mib(pid: int) -> float:
    """The resident memory of `pid` and its descendants, in MiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        proc = Path(f"/proc/{current}")
        for line in (proc / "status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        for task in (proc / "task").iterdir():
            pending += [int(c) for c in (task / "children").read_text().split()]
    return total / 1024


def median_load(loads: list[Load]) -> Load:
    return sorted(loads, key=lambda run: run.requests_per_second)[len(loads) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per load")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    scratch = Path(tempfile.mkdtemp(prefix="bench-servers-"))
    pg = find_server(scratch / "postgres")
    redis_url, redis_server = find_redis(scratch / "redis")
    python = pythons.interpreter("3.12")
    rows: dict[str, Row] = {}
    databases: list[str] = []
    try:
        seeded = pg.create_database("bench")
        databases.append(seeded)
        first, *others = SERVERS
        paths = {first: seeded_project(scratch / first, {"server": first}, pg, seeded, redis_url)}
        for server in others:
            paths[server] = render(scratch / server, {"server": server})
            (paths[server] / ".env").unlink()  # as in the image: the environment only
        # What each row starts: the command, where, and the environment, with a database
        # of its own copied from the seeded one.
        started: dict[str, tuple[list[str], Path, dict[str, str]]] = {}
        for server, path in paths.items():
            for workers in WORKERS:
                database = pg.create_database("bench", template=seeded)
                databases.append(database)
                env = service_env(pg.database_url(database), redis_url)
                env["WEB_CONCURRENCY"] = str(workers)
                name = f"{server}, {workers} worker{'s' if workers > 1 else ''}"
                started[name] = (dockerfile_command(path, python), path, env)
        database = pg.create_database("bench", template=seeded)
        databases.append(database)
        floor_env = service_env(pg.database_url(database), redis_url)
        started[FLOOR] = (
            peer_command(dockerfile_command(paths[first], python), "floor"),
            REPO_ROOT,
            floor_env,
        )

        rows = {name: Row() for name in started}
        for _ in range(args.rounds):
            this_round: dict[str, dict[str, Load]] = {}
            # One server at a time: the others' idle connection pools would count against
            # PostgreSQL's max_connections, and their processes against the memory.
            for name, (command, cwd, env) in started.items():
                with ExitStack() as running:
                    base, _ = running.enter_context(serve(command, cwd, env))
                    service = prepare(base, running.enter_context(scratch_dir()))
                    for endpoint in ENDPOINTS:
                        if args.warmup:
                            load(service, endpoint, args.warmup, args)
                        result = load(service, endpoint, args.duration, args)
                        this_round.setdefault(endpoint, {})[name] = result
                    rss = tree_rss_mib(SERVED[base])
                    rows[name].rss_mib = max(rows[name].rss_mib, rss)
            for endpoint, results in this_round.items():
                floor = results[FLOOR].requests_per_second
                for name, result in results.items():
                    rows[name].loads.setdefault(endpoint, []).append(result)
                    rows[name].ratios.setdefault(endpoint, []).append(
                        result.requests_per_second / floor
                    )
        versions = service_versions(python, pg.database_url("postgres", driver="postgresql"))
    finally:
        for database in reversed(databases):
            pg.drop_database(database)
        if redis_server is not None:
            redis_server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    table = report(rows, versions, args)
    if args.rounds < 3:
        print(table)
    else:
        REPORT.write_text(table, encoding="utf-8")
        print(f"{table}\nwritten to {REPORT.relative_to(REPO_ROOT)}")
    return 0


def report(rows: dict[str, Row], versions: dict[str, str], args: argparse.Namespace) -> str:
    lines = [
        "# Web servers",
        "",
        "Generated by `python bench/web_servers.py` (see its docstring); do not edit by hand.",
        "",
        f"- Run: {datetime.now(UTC):%Y-%m-%d %H:%M UTC} on {os.cpu_count()} cores "
        f"({versions['cpu']}), {platform.system()} {platform.machine()}; PostgreSQL "
        f"{versions['postgresql']} and Redis on the same machine, over loopback, and wrk on "
        "the same cores as the servers.",
        f"- The default project (its cache on), Python {versions['python']}; {SEED} seeded "
        "items, the same rows for every server.",
        f"- Load: wrk {versions['wrk']}, {args.threads} threads, {args.connections} "
        f"connections; {args.rounds} rounds, each loading every row in turn for "
        f"{args.warmup} s unmeasured and then {args.duration} s per endpoint. Figures are "
        "medians of the rounds; the ratio is over the floor in the same round.",
        "",
        "| Server | Endpoint | Requests/s | p99 | Ratio to floor | Errors | Resident memory |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for name, row in rows.items():
        for endpoint, loads in row.loads.items():
            run = median_load(loads)
            ratio = statistics.median(row.ratios[endpoint])
            lines.append(
                f"| {name} | {endpoint} | {run.requests_per_second:.0f} | {run.p99_ms:.1f} ms "
                f"| {ratio:.2f} | {run.errors_cell()} | {row.rss_mib:.0f} MiB |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
