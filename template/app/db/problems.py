"""Why a database cannot be used, in one line that says what to do about it.

Commands (migrations, the test suite) print this instead of a driver's traceback, which
buries the reason under a hundred lines of asyncio and SQLAlchemy frames.
"""

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

# SQLSTATEs of a database that is missing, refuses the login, or has no tables yet.
MISSING_DATABASE = "3D000"
LOGIN_REFUSED = frozenset({"28000", "28P01"})
UNDEFINED_TABLE = "42P01"


def where(url: str) -> str:
    """The database of `url` as `name on host:port`, without its password."""
    parsed = make_url(url)
    return f"{parsed.database} on {parsed.host or 'localhost'}:{parsed.port or 5432}"


def explain(error: BaseException, url: str, variable: str) -> str | None:
    """One line on why the database at `url` (read from `variable`) cannot be used, or None
    if `error` is not about reaching it."""
    database = where(url)
    if isinstance(error, DBAPIError):
        state = getattr(error.orig, "sqlstate", None)
        if state == MISSING_DATABASE:
            return (
                f"Database {database} does not exist: create it with `make db` "
                f"(or start compose's with `make up`), or fix {variable}."
            )
        if state in LOGIN_REFUSED:
            user = make_url(url).username
            return f"PostgreSQL refused the login of {user!r} to {database}: check {variable}."
        if state == UNDEFINED_TABLE:
            return f"Database {database} has no tables yet: run `make migrate`."
        return None
    if isinstance(error, OSError):
        reason = error.strerror or type(error).__name__
        return (
            f"Cannot reach PostgreSQL for {database} ({reason}): start it "
            f"(`make up`, or your local server), or fix {variable}."
        )
    return None
