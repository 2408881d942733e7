"""When a task runs again: after a transient error, and after its worker was lost.

A transient error (PostgreSQL or Redis unreachable, restarting or timing out, a deadlock)
may pass, so the task is retried with backoff; any other error (a TypeError, a ValueError,
a validation error) would only fail again, so the task fails at once.

A task is acknowledged when it ends (`task_acks_late`). Until then Redis keeps the message
aside, and hands it to another worker once it has been held longer than the broker's
visibility timeout: that is how the task of a worker killed mid-task runs again. The
timeout is derived from the longest a healthy worker may hold a message - the wait before a
retry plus a run up to the hard time limit - so that no healthy task is handed out twice.
"""

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.core.settings import Settings

# OSError covers refused, reset and unreachable connections and the built-in TimeoutError.
TRANSIENT_ERRORS = (OSError, RedisConnectionError, RedisTimeoutError, PoolTimeoutError)
# SQLSTATE classes another attempt can get past: connection exception, transaction rollback
# (serialization failure, deadlock), insufficient resources, operator intervention
# (shutdown, cannot connect now, statement timeout).
TRANSIENT_SQLSTATE_CLASSES = frozenset({"08", "40", "53", "57"})
# Beyond the longest legitimate hold: the delay between a message's delivery and its start,
# and the clocks of different workers' hosts, which the broker compares.
REDELIVERY_MARGIN = 10
# How often each worker looks for messages held past the visibility timeout.
RESTORE_INTERVAL = 10


def is_transient(error: BaseException) -> bool:
    """Whether another attempt of the task could succeed."""
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None)
        return error.connection_invalidated or (
            isinstance(sqlstate, str) and sqlstate[:2] in TRANSIENT_SQLSTATE_CLASSES
        )
    return False


def visibility_timeout(settings: Settings) -> int:
    """Seconds after which Redis hands an unacknowledged task to another worker."""
    return settings.celery_task_time_limit + settings.celery_retry_backoff_max + REDELIVERY_MARGIN
