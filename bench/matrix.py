"""The combination matrix as a benchmark: run it, time it, and write docs/matrix.md.

    python bench/matrix.py                  # run `pytest --full-matrix` and write the report
    python bench/matrix.py --warm           # reuse .cache/ (environments, mypy) from earlier runs
    python bench/matrix.py --from-results F # only write the report, from a run's results

By default the run starts cold, as CI does on a fresh clone: the per-Python environments
are built and mypy starts without a cache. The wall time is that of the whole template
suite with the full matrix (CI's command), since that is what a change waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
REPORT = REPO_ROOT / "docs" / "matrix.md"
BUDGET_SECONDS = 15 * 60  # the whole suite with --full-matrix, on 2 cores
GROWTH = (5, 10, 15)  # module counts the report gives the row count for
RESULTS = REPO_ROOT / ".cache" / "matrix" / "results.json"
STAGES = {
    "render": "copier copy into a fresh directory (and the first time, a Python environment)",
    "files": "no Jinja left, no blank-line debris, no trace of the modules that are off",
    "ruff": "ruff check, ruff format --check, pre-commit config",
    "mypy": "mypy --strict",
    "layers": "lint-imports: the app's imports point one way, side packages never import api",
    "docker": "hadolint on both Dockerfiles, docker compose config with and without .env",
    "alembic": "upgrade, check, downgrade on an empty database; a new revision lint-clean",
    "suite": "the project's own test suite against PostgreSQL and Redis",
    "process": "the service started as its Dockerfile starts it: health, readiness, items",
    "container": "the image built and run on a container engine, and the compose stack up",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warm", action="store_true", help="reuse .cache/ from earlier runs")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (default: auto)")
    parser.add_argument("--from-results", type=Path, help="write the report from these results")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest")
    args = parser.parse_args()

    if args.from_results:
        results = json.loads(args.from_results.read_text(encoding="utf-8"))
    else:
        results = run(args.warm, args.workers, args.pytest_args)
    REPORT.write_text(report(results), encoding="utf-8")
    print(summary(results))
    print(f"report: {REPORT.relative_to(REPO_ROOT)}")
    failed = any(_failed(render) for render in results["renders"].values())
    return 1 if failed or results.get("exit_code", 0) != 0 else 0


def run(warm: bool, workers: str, extra: list[str]) -> dict[str, Any]:
    env = dict(os.environ)
    cold_cache = None if warm else tempfile.mkdtemp(prefix="matrix-cache-")
    if cold_cache:
        env["TEMPLATE_TEST_CACHE"] = cold_cache
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    command = [
        *(sys.executable, "-m", "pytest", "--full-matrix", "-q", "-n", workers),
        *("--matrix-results", str(RESULTS), "-p", "no:cacheprovider", *extra),
    ]
    RESULTS.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        exit_code = subprocess.run(command, cwd=REPO_ROOT, env=env, check=False).returncode
        wall = time.monotonic() - started
    finally:
        if cold_cache:
            shutil.rmtree(cold_cache, ignore_errors=True)
    if not RESULTS.exists():
        sys.exit(f"pytest exited {exit_code} without writing {RESULTS}: no report written")
    results: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
    results |= {
        "matrix": matrix_shape(),
        "exit_code": exit_code,
        "wall_seconds": round(wall, 1),
        "cold": not warm,
        "workers": workers,
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"harness Python {platform.python_version()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def matrix_shape() -> dict[str, Any]:
    """The covering array's size today, and what it would be with more modules."""
    sys.path[:0] = [str(REPO_ROOT / "extensions"), str(REPO_ROOT)]
    from tests import matrix

    built = matrix.load()
    return {
        "toggles": len(built.toggles),
        "strength": built.strength,
        "rows": len(built.rows),
        "growth": {n: len(matrix.build(*matrix.synthetic(n)).rows) for n in GROWTH},
    }


def budget(results: dict[str, Any]) -> str:
    verdict = "within" if results["wall_seconds"] <= BUDGET_SECONDS else "OVER"
    return f"{verdict} the budget of {_duration(BUDGET_SECONDS)}"


def stage_seconds(results: dict[str, Any]) -> dict[str, list[float]]:
    seconds: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for render in results["renders"].values():
        for stage, record in render["stages"].items():
            seconds.setdefault(stage, []).append(record["seconds"])
    return seconds


def summary(results: dict[str, Any]) -> str:
    renders = results["renders"]
    failed = [name for name, r in renders.items() if _failed(r)]
    shape = results.get("matrix") or matrix_shape()
    lines = [
        f"module questions: {shape['toggles']}, rows (strength {shape['strength']}): "
        f"{shape['rows']}, "
        f"fully tested: {len(renders) - len(failed)} passed, {len(failed)} failed",
        f"wall time: {results['wall_seconds']:.0f} s, {budget(results)} "
        f"({'cold' if results.get('cold') else 'warm'} caches, {results.get('workers')} workers)",
        "rows with more modules: "
        + ", ".join(f"{n} modules -> {rows}" for n, rows in shape["growth"].items()),
    ]
    for stage, values in stage_seconds(results).items():
        if values:
            median = statistics.median(values)
            lines.append(
                f"  {stage:8} total {sum(values):7.1f} s   median {median:5.1f} s"
                f"   max {max(values):5.1f} s"
            )
    lines += [f"FAILED: {name}" for name in failed]
    return "\n".join(lines)


def report(results: dict[str, Any]) -> str:
    renders = results["renders"]
    failed = [name for name, r in renders.items() if _failed(r)]
    pythons = Counter(r["answers"]["python_version"] for r in renders.values())
    shape = results.get("matrix") or matrix_shape()
    lines = [
        "# The combination matrix",
        "",
        'Generated by `python bench/matrix.py` (see docs/template.md, "Testing the',
        'combinations"); do not edit by hand.',
        "",
        f"- Run: {results.get('date', '?')}, {results.get('machine', '?')}, "
        f"{results.get('workers', '?')} test workers, "
        f"{'cold caches (as in CI)' if results.get('cold') else 'warm caches'}.",
        f"- Module questions: {shape['toggles']} ({2 ** shape['toggles']} combinations). "
        f"Rows of the covering array: {shape['rows']}, holding every combination of any "
        f"{shape['strength']} module questions, all off, the defaults and all on. With more "
        "modules it would have "
        + ", ".join(f"{rows} rows for {n}" for n, rows in shape["growth"].items())
        + f". Rendered and fully tested: "
        f"{len(renders)}, of which {len(renders) - len(failed)} passed and {len(failed)} failed.",
        "- Python versions, spread so that every pair of values of any two options is tested "
        "together: " + ", ".join(f"{v} in {n}" for v, n in sorted(pythons.items())) + ".",
        f"- Wall time of `pytest --full-matrix` (the whole template suite, CI's command): "
        f"**{_duration(results['wall_seconds'])}**, {budget(results)}.",
        "",
        "Stage times over all combinations (each test's own time, summed over all workers):",
        "",
        "| Stage | What it checks | Total | Median | Max |",
        "|---|---|---:|---:|---:|",
    ]
    for stage, values in stage_seconds(results).items():
        if values:
            lines.append(
                f"| {stage} | {STAGES.get(stage, '')} | {sum(values):.0f} s "
                f"| {statistics.median(values):.1f} s | {max(values):.1f} s |"
            )
    lines += [
        "",
        "| Combination | Python | " + " | ".join(STAGES) + " | Result |",
        "|---|---|" + "---|" * len(STAGES) + "---|",
    ]
    for name, render in renders.items():
        stages = render["stages"]
        cells = [_cell(stages.get(stage)) for stage in STAGES]
        result = "**failed**" if _failed(render) else "passed"
        modules = name.split("@")[0]
        python = render["answers"]["python_version"]
        lines.append(f"| {modules} | {python} | " + " | ".join(cells) + f" | {result} |")
    if failed:
        lines += ["", "Failed tests:", ""]
        for name in failed:
            for record in renders[name]["stages"].values():
                lines += [f"- `{nodeid}`" for nodeid in record["failed"]]
    return "\n".join(lines) + "\n"


def _failed(render: dict[str, Any]) -> bool:
    return any(record["outcome"] == "failed" for record in render["stages"].values())


def _cell(record: dict[str, Any] | None) -> str:
    if record is None:
        return "-"
    mark = "ok" if record["outcome"] == "passed" else "**FAIL**"
    detail = f"{record['summary']}, " if "summary" in record else ""
    return f"{mark} ({detail}{record['seconds']:.1f} s)"


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


if __name__ == "__main__":
    sys.exit(main())
