"""Beat's scheduler, with a heartbeat, and the healthcheck that reads it.

A beat that hangs (on a connection, or a frozen process) is still a live process: what
shows that it schedules is that it keeps waking up. The scheduler touches a file beside
its schedule each time it wakes, at least every `WAKE_SECONDS` (Celery's
`beat_max_loop_interval`); `python -m app.worker.beat <schedule>` exits 1 when that file is
older than `--max-age` seconds, or missing.
"""

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler

# Beat wakes at least this often, also when nothing is due: each wake is a heartbeat.
WAKE_SECONDS = 5
MAX_AGE_SECONDS = 30


def heartbeat_file(schedule: str) -> Path:
    return Path(f"{schedule}.heartbeat")


class HeartbeatScheduler(PersistentScheduler):
    def __init__(self, *args: Any, schedule_filename: str, **kwargs: Any) -> None:
        super().__init__(*args, schedule_filename=schedule_filename, **kwargs)
        self.heartbeat = heartbeat_file(schedule_filename)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        self.heartbeat.touch()
        return super().tick(*args, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description="Exit 1 unless beat woke up recently.")
    parser.add_argument("schedule", help="the file beat was started with (--schedule)")
    parser.add_argument("--max-age", type=float, default=MAX_AGE_SECONDS, metavar="SECONDS")
    args = parser.parse_args()
    try:
        age = time.time() - heartbeat_file(args.schedule).stat().st_mtime
    except FileNotFoundError:
        print("unhealthy: beat has not woken up yet", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(f"unhealthy: beat last woke up {age:.0f} s ago", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
