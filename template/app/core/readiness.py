"""What the readiness endpoint probes: the checks the app and its modules register."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """A dependency to probe. Only a critical one failing makes the service unready; a
    non-critical one (a cache, say) only marks it degraded, since it can do without."""

    probe: Callable[[], Awaitable[object]]
    critical: bool = True
