"""Beat's healthcheck, against a real beat: healthy while it wakes up, unhealthy once it is
frozen (a hung beat is still a live process), healthy again when it resumes."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core.settings import Settings
from app.worker.beat import MAX_AGE_SECONDS, WAKE_SECONDS, heartbeat_file
from tests.worker_probe import PROJECT_ROOT, settings_env

# Seconds beat takes to start and first wake up, on a slow machine.
BEAT_START = 30
# Above beat's longest sleep, so that a beat that runs never fails it.
MAX_AGE = 2 * WAKE_SECONDS


def healthcheck(schedule: Path, *options: str) -> int:
    """The healthcheck of beat's compose service, as compose runs it: its exit status."""
    command = [sys.executable, "-m", "app.worker.beat", str(schedule), *options]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, check=False).returncode


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


@pytest.fixture
def schedule(settings: Settings, tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A beat with the tests' settings: its schedule file and process id."""
    schedule = tmp_path / "celerybeat-schedule"
    command = ["-m", "celery", "-A", "app.worker.celery_app", "beat", "--schedule", str(schedule)]
    beat = subprocess.Popen(
        [sys.executable, *command, "--loglevel", "WARNING"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **settings_env(settings)},
        start_new_session=True,
    )
    try:
        yield schedule, beat.pid
    finally:
        os.killpg(beat.pid, signal.SIGKILL)
        beat.wait(timeout=30)


def test_the_healthcheck_reads_the_heartbeat_s_age(tmp_path: Path) -> None:
    schedule = tmp_path / "celerybeat-schedule"
    assert healthcheck(schedule) == 1  # beat never woke up

    heartbeat_file(str(schedule)).touch()
    assert healthcheck(schedule) == 0
    long_ago = time.time() - MAX_AGE_SECONDS - 1
    os.utime(heartbeat_file(str(schedule)), (long_ago, long_ago))
    assert healthcheck(schedule) == 1


def test_beat_is_healthy_while_it_wakes_and_unhealthy_while_frozen(
    schedule: tuple[Path, int],
) -> None:
    path, pid = schedule
    assert wait_for(lambda: healthcheck(path, "--max-age", str(MAX_AGE)) == 0, BEAT_START)
    os.kill(pid, signal.SIGSTOP)
    try:
        assert wait_for(lambda: healthcheck(path, "--max-age", str(MAX_AGE)) == 1, 3 * MAX_AGE)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert wait_for(lambda: healthcheck(path, "--max-age", str(MAX_AGE)) == 0, 3 * MAX_AGE)
