"""bench/service.py's reading of wrk and its report, on recorded wrk output."""

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import service

CLEAN = """\
Running 10s test @ http://127.0.0.1:8000/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.11ms    4.20ms  60.00ms   80.00%
  Latency Distribution
     50%   11.52ms
     75%   13.90ms
     90%   16.01ms
     99%   28.66ms
  48960 requests in 10.00s, 10.50MB read
Requests/sec:   4896.12
Transfer/sec:      1.05MB
"""

FAILING = """\
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    1.60ms
     99%    1.86s
  5000 requests in 10.00s, 1.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:    500.00
"""


def test_a_clean_run_has_no_errors() -> None:
    load = service.parse_wrk(CLEAN)

    assert load.requests_per_second == 4896.12
    assert load.p50_ms == pytest.approx(11.52)
    assert load.p99_ms == pytest.approx(28.66)
    assert load.errors_cell() == "0"


def test_errors_are_counted_by_kind_and_latencies_converted() -> None:
    load = service.parse_wrk(FAILING)

    assert load.p50_ms == pytest.approx(0.85)
    assert load.p99_ms == pytest.approx(1860.0)
    assert load.errors_cell() == "12 (read 2, timeout 3, non-2xx 7)"


def test_the_report_gives_each_endpoint_its_ratio_to_the_floor() -> None:
    floor = service.Measured(
        startup_seconds=0.2, rss_mib=38, loads={"item by id": service.parse_wrk(CLEAN)}
    )
    generated = service.Measured(
        startup_seconds=1.3, rss_mib=95, loads={"item by id": service.parse_wrk(FAILING)}
    )
    versions = dict.fromkeys(service.VERSIONS, "1.0") | {
        "python": "3.12.1", "postgresql": "15", "wrk": "4.1.0", "cpu": "test cpu"
    }  # fmt: skip
    args = argparse.Namespace(threads=2, connections=64, warmup=5, duration=10)

    text = service.report({"default": generated, "floor": floor}, [1.5, 1.2, 1.4], versions, args)

    row = (
        "| default | item by id | 500 | 0.85 ms | 1860.00 ms | 12 (read 2, timeout 3, non-2xx 7) |"
    )
    assert f"{row} 0.10 |" in text
    assert "| floor | item by id | 4896 | 11.52 ms | 28.66 ms | 0 | 1.00 |" in text
    assert "median 1.40 s of 3" in text
    assert "| default | 1.30 s | 95 MiB |" in text
    assert "test cpu" in text


def test_a_ratio_measured_around_the_service_is_reported_as_it_is() -> None:
    floor = service.Measured(
        loads={"item by id": service.parse_wrk(CLEAN)},
        ratios={"item by id": 1.0},
        floor_runs={"item by id": [4896.12, 5100.0, 4700.0]},
    )
    generated = service.Measured(
        loads={"item by id": service.parse_wrk(FAILING)}, ratios={"item by id": 0.11}
    )
    versions = dict.fromkeys(service.VERSIONS, "1.0") | {
        "python": "3.12.1", "postgresql": "15", "wrk": "4.1.0", "cpu": "test cpu"
    }  # fmt: skip
    args = argparse.Namespace(threads=2, connections=64, warmup=5, duration=10)

    text = service.report({"default": generated, "floor": floor}, [1.0], versions, args)

    assert "| 12 (read 2, timeout 3, non-2xx 7) | 0.11 |" in text
    assert "(requests/s): item by id 4896, 5100, 4700." in text


def test_each_service_is_also_reported_over_the_textbook_app() -> None:
    floor = service.Measured(loads={"create": service.parse_wrk(CLEAN)}, ratios={"create": 1.0})
    textbook = service.Measured(loads={"create": service.parse_wrk(CLEAN)}, ratios={"create": 0.1})
    generated = service.Measured(
        loads={"create": service.parse_wrk(CLEAN)}, ratios={"create": 0.16}
    )
    versions = dict.fromkeys(service.VERSIONS, "1.0") | {
        "python": "3.12.1", "postgresql": "15", "wrk": "4.1.0", "cpu": "test cpu"
    }  # fmt: skip
    args = argparse.Namespace(threads=2, connections=64, warmup=5, duration=10)
    measured = {"default": generated, "floor": floor, "textbook": textbook}

    text = service.report(measured, [1.0], versions, args)

    assert "| default | create | 4896 | 11.52 ms | 28.66 ms | 0 | 0.16 | 1.60 |" in text
    assert "| textbook | create | 4896 | 11.52 ms | 28.66 ms | 0 | 0.10 | 1.00 |" in text
