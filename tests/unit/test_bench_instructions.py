"""bench/instructions.py's arithmetic and report, and bench/asgi_driver.py on a real app."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import instructions

# What callgrind writes to stderr when the program it ran exits.
CALLGRIND_STDERR = """\
==4121== Callgrind, a call-graph generating cache profiler
==4121== Command: python asgi_driver.py app:create 200 100
==4121==
==4121== Events    : Ir
==4121== Collected : 4464789828
==4121==
==4121== I   refs:      4,464,789,828
"""

# An ASGI app with a lifespan and no accounts, answering 200 but for /missing.
PROBE_APP = """
PATHS = []


def create_app():
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            PATHS.append("shut down")
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] == "POST":
            body = (await receive())["body"].decode()
            PATHS.append(f"POST {scope['path']} {body}")
        else:
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            target = scope["path"] + "?" + scope["query_string"].decode()
            PATHS.append(f"{target} {auth}" if auth else target)
        status = 404 if scope["path"] in ("/missing", "/api/v1/auth/signup") else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    return app


def recorded():
    import atexit
    atexit.register(lambda: print("\\n".join(PATHS)))
    return create_app()
"""


def test_the_count_is_read_from_callgrinds_summary() -> None:
    assert instructions.collected(CALLGRIND_STDERR) == 4_464_789_828


def test_a_run_without_a_summary_is_refused() -> None:
    with pytest.raises(ValueError, match="no instruction count"):
        instructions.collected("==4121== Callgrind, a call-graph generating cache profiler\n")


def test_the_report_gives_the_floors_count_over_each_apps() -> None:
    counts = {("floor", "item by id"): 300_000.0, ("default, cache off", "item by id"): 1_200_000.0}

    text = instructions.report(counts, argparse.Namespace(requests=200, warmup=100))

    assert "| floor | item by id | 300,000 | 1.00 | - |" in text
    assert "| default, cache off | item by id | 1,200,000 | 0.25 | - |" in text
    assert "200 requests after 100" in text


def test_the_report_gives_the_textbook_apps_count_over_each_apps_too() -> None:
    counts = {
        ("floor", "create"): 360_000.0,
        ("textbook", "create"): 3_600_000.0,
        ("default", "create"): 2_400_000.0,
    }

    text = instructions.report(counts, argparse.Namespace(requests=200, warmup=50))

    assert "| default | create | 2,400,000 | 0.15 | 1.50 |" in text
    assert "| textbook | create | 3,600,000 | 0.10 | 1.00 |" in text


def run_driver(
    tmp_path: Path, path: str, requests: int, warmup: int, authorization: str = ""
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "probe.py").write_text(PROBE_APP, encoding="utf-8")
    command = [
        sys.executable, str(instructions.DRIVER), "probe:recorded", path, str(requests),
        str(warmup), str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "BENCH_AUTHORIZATION": authorization}
    return subprocess.run(command, capture_output=True, text=True, check=False, env=env)


def test_the_driver_runs_the_lifespan_and_repeats_the_warm_up_ids(tmp_path: Path) -> None:
    result = run_driver(tmp_path, "/items/{n}?x=1", requests=4, warmup=3)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "/items/1?x=1", "/items/2?x=1", "/items/3?x=1",  # warm-up
        "/items/1?x=1", "/items/2?x=1", "/items/3?x=1", "/items/1?x=1",
        "shut down",
    ]  # fmt: skip


def test_every_request_carries_the_members_authorization(tmp_path: Path) -> None:
    result = run_driver(tmp_path, "/items/{n}", requests=1, warmup=1, authorization="Bearer t")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["/items/1? Bearer t", "/items/1? Bearer t", "shut down"]


def test_an_app_without_accounts_has_no_member_to_sign_up(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(PROBE_APP, encoding="utf-8")
    command = [
        sys.executable,
        str(instructions.DRIVER),
        "probe:create_app",
        "member",
        str(tmp_path),
    ]

    result = subprocess.run(command, capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert instructions.authorization(result.stdout) == ""


def test_the_members_header_is_found_among_the_apps_log_lines() -> None:
    stdout = '{"event": "request"}\nBearer abc.def.ghi\n{"event": "shutdown"}\n'

    assert instructions.authorization(stdout) == "Bearer abc.def.ghi"


def test_creates_post_an_item_with_a_name_of_its_own_each_time(tmp_path: Path) -> None:
    result = run_driver(tmp_path, "POST /items", requests=2, warmup=1)

    assert result.returncode == 0, result.stderr
    creates = [json.loads(line.split(" ", 2)[2]) for line in result.stdout.splitlines()[:-1]]
    assert len(creates) == 3
    assert len({item["name"] for item in creates}) == 3
    assert {item["quantity"] for item in creates} == {1}


def test_the_driver_fails_on_an_answer_other_than_2xx(tmp_path: Path) -> None:
    result = run_driver(tmp_path, "/missing", requests=1, warmup=1)

    assert result.returncode != 0
    assert "answers other than 2xx: [404]" in result.stderr
