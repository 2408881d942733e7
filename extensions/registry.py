"""The registry of what the generated service is made of.

Every part of the generated service that can be switched on or off is declared here
exactly once, as a `Module`: the packages it needs, the settings it reads, the compose
services it runs, the routers it mounts and the files it owns. Templates never test a
module's question themselves; they ask the render context that `context.py` derives from
this registry (`dependencies`, `settings`, `routers`, `excluded_paths`, ...).

`CORE` is the always-on base service. It is declared with the same vocabulary so that the
templates have one loop per concern instead of a hand-written part plus a loop for modules.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field


class _Required(enum.Enum):
    REQUIRED = "required"


# The default of a setting that has none: the service refuses to start without it.
REQUIRED = _Required.REQUIRED


@dataclass(frozen=True)
class Setting:
    """One environment variable of the generated service.

    Its field in `app/core/settings.py` is written from data: `type` is `"str"` (the
    default), `"int"`, `"float"`, `"bool"`, `"SecretStr"` or `"list[str]"`; `choices` make it
    a `Literal` of those strings instead. `default` is the value as Python has it (`50_000`,
    `"INFO"`, `True`, `[]`), `REQUIRED` when there is none, and None makes the type optional
    (`str | None = None`). `ge`, `gt` and `le` are bounds that pydantic checks
    (`Field(default=50_000, ge=700)`). A string default may use the same `str.format`
    placeholders as `local` (e.g. `"{project_slug}"`). `app=False` marks a variable that
    only the infrastructure reads (compose, `sql/init_db.sql`), so it is listed in
    `.env.example` (and `.env`) but is not a field of the settings class.

    `local` marks a setting as per project: its value is written to the developer's
    git-ignored `.env`. Only secrets, the URLs and ports of what the service talks to, and
    what a developer must choose are per project; every other setting has no `local`, is
    left out of `.env` and takes its default from the code, so that a default changed in
    code (by the team, or by a template update) takes effect everywhere. `local` is a
    `str.format` template over the render context (answers plus `secrets`), so generated
    secrets reach `.env` and nowhere else. `example` is what `.env.example` shows (commented
    out for the settings that are not per project), by default the default as `.env` would
    spell it; it must never hold a real secret.

    `compose` says which containers of the app's image get the variable in compose:
    `"app"` every one (api, workers, beat and the migrate step), `"migrate"` the one-shot
    migrate step alone (the owner role, the first admin's password), `""` none (read by the
    tests only). Compose passes no variable a container does not read.
    """

    name: str
    doc: str
    type: str = "str"
    choices: tuple[str, ...] = ()
    default: object = REQUIRED
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    example: str | None = None
    local: str | None = None
    app: bool = True
    secret: bool = False
    compose: str = "app"

    @property
    def env(self) -> str:
        return self.name.upper()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def annotation(self) -> str:
        """The field's type as Python source: `int`, `Literal["json", "console"]`, `str | None`."""
        kind = self.type
        if self.choices:
            kind = f"Literal[{', '.join(python_literal(c) for c in self.choices)}]"
        return f"{kind} | None" if self.default is None else kind

    @property
    def default_source(self) -> str | None:
        """The field's default as Python source (None when it is required): the value, or
        `Field(default=..., ge=...)` when it has bounds."""
        if self.required:
            return None
        value = python_literal(self.default)
        bounds = {"ge": self.ge, "gt": self.gt, "le": self.le}
        given = [f"{name}={python_literal(b)}" for name, b in bounds.items() if b is not None]
        return f"Field(default={value}, {', '.join(given)})" if given else value

    @property
    def env_example(self) -> str:
        """What `.env.example` shows: `example`, or else the default as `.env` spells it."""
        if self.example is not None:
            return self.example
        return env_text(self.default)


def python_literal(value: object) -> str:
    """A default as Python source: large integers grouped (`50_000`), strings as
    `ruff format` quotes them."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return python_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    raise TypeError(f"no Python source for a default of {value!r}")


def python_string(text: str) -> str:
    """A Python string literal as `ruff format` writes it: double quotes unless single
    quotes need fewer escapes, and non-ASCII characters kept as they are."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    body = text.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{body}{quote}"


def env_text(value: object) -> str:
    """A value as a `.env` line spells it, unquoted: `true`, `3`, `0.25`, `["a"]`; nothing
    for none (and for a required value)."""
    if value is None or value is REQUIRED:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return json.dumps(value)
    return str(value)


@dataclass(frozen=True)
class Router:
    """An `APIRouter` that the application mounts: `from <module> import router`."""

    module: str
    prefix: str = ""

    @property
    def alias(self) -> str:
        """A unique local name for the import in the router wiring module."""
        return self.module.rsplit(".", 1)[-1] + "_router"


@dataclass(frozen=True)
class RouteAdditions:
    """What a module adds to every route of one of the app's routers, rendered where that
    router is made (its `APIRouter(...)`), so that the routes themselves read the same
    whichever modules are on.

    `responses` are `module:NAME` paths of dicts of documented responses, merged into the
    router's `responses=`; `dependencies` are `module:NAME` paths of `Depends(...)` values
    that run before every route of the router; `imports` are `module:NAME` paths of further
    names the router module uses when the module is on (a decorator, say)."""

    responses: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hook:
    """A module's part of the app's lifespan: an async context manager `(state)`, given
    the app's `AppState` (app/state.py).

    The lifespan enters them in registry order after the database is set up, and exits
    them in reverse at shutdown, so a module can open a client, set its field of the
    state, register a readiness check, and close it again. `field` names that field and
    `provides` its type (`module:Class`), which `AppState` declares."""

    module: str
    function: str
    field: str
    provides: str

    @property
    def import_line(self) -> str:
        return f"from {self.module} import {self.function}"

    @property
    def type_import(self) -> str:
        module, name = self.provides.split(":")
        return f"from {module} import {name}"

    @property
    def type_name(self) -> str:
        return self.provides.split(":")[1]


@dataclass(frozen=True)
class MakeTarget:
    """A Makefile target the module adds, e.g. `worker`."""

    name: str
    help: str
    command: str


@dataclass(frozen=True)
class Module:
    """Everything one part of the service contributes to a rendered project.

    `question` is the boolean answer in `copier.yml` that switches the module on; the core
    has none. `files` are gitwildmatch patterns, relative to the project root, of the files
    the module owns: when the module is off they are excluded from the render, so no trace
    of it is left behind. `files_with` are files the module owns that only exist when another
    module is on too, keyed by that module (mail's Celery task): they are excluded when
    either is off.

    `models` are `module:Class` paths that `app/models/__init__.py` imports so that Alembic
    sees them; `lifespan` hooks run in the app's lifespan, in registry order.

    `question=None` marks a shared module that no one asks for directly: it is on when a
    module that `implies` it is on (Redis, which the cache and the rate limiter share, is
    declared once this way). `compose_env` are the values compose gives settings (values
    may use compose's `${VAR}`, and `{database_name}`); a setting without one is passed
    from `.env` when it is set there, to the containers its `compose` names.
    `compose_services` are the module's services in `docker-compose.yml`, as the YAML
    written there under `services:` (the indentation of the Python source is removed); the
    API waits for each to be healthy before it starts. `compose_app_services` run the app's
    own image with its configuration (workers, schedulers), in the same YAML: each starts
    with `<<: *app`, which extends the compose file's `x-app`. `prestart` are modules that the
    migrate step (`python -m app.prestart --migrate`) runs as `python -m ...` after the
    migrations, before the API starts: one-shot set-up that needs what the long-running
    containers must not hold.

    `package` is the module's side package of the app (`app.auth`): it sits beside the
    layers (`app.api` -> `app.services` -> `app.db` / `app.models` / `app.schema` ->
    `app.core`) and never imports `app.api` or `app.main`, which the generated project's
    import-linter contracts check. A module's FastAPI dependencies are api code, so they
    live in `app/api/` (`app/api/auth.py`), in its `files`.

    `routes` maps a router's module (`app.api.v1.items`) to what the module adds to every
    one of its routes. `item_writes` are what the module gives the item service the writes
    use: its keyword argument to `ItemService`, and the `module:Alias` of the `Annotated`
    dependency in app/api that provides it (the acting user's rights, the cache
    invalidation). `test_plugins` are the module's pytest plugins (`tests.plugins.auth`),
    which conftest.py lists in `pytest_plugins`, after the core's: a plugin's fixture
    overrides the one of the same name before it, and may take it as an argument to add to
    it (`settings`, `app_settings`). A plugin among the `files` of a module that is off is
    not listed.

    `touches` declares every file the module changes without owning it: template path
    (relative to `template/`) to what the module adds there, in one sentence. Such a file
    holds blocks that test `"<name>" in modules`; tests/unit/test_footprint.py fails when a
    template mentions a module in a file that is neither among its `files` nor in its
    `touches`, or when a `touches` entry names a file that does not mention it.

    `marks` are regular expressions of what else only the module writes: the names its code
    defines that no other field declares (`CurrentUser`), its URLs and its words in prose
    (`rate limit`). A module that is off leaves none of them, nor anything else its entry
    names (tests/traces.py derives the rest: its packages, settings, distributions, ...).
    """

    name: str
    summary: str
    question: str | None = None
    implies: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    dev_dependencies: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()
    secrets: tuple[str, ...] = ()
    routers: tuple[Router, ...] = ()
    models: tuple[str, ...] = ()
    lifespan: tuple[Hook, ...] = ()
    compose_services: str = ""
    compose_env: dict[str, str] = field(default_factory=dict)
    compose_app_services: str = ""
    make_targets: tuple[MakeTarget, ...] = ()
    prestart: tuple[str, ...] = ()
    # Modules holding Celery tasks, for the worker to import (when Celery is on), and the
    # queue of their own that they are routed to (None: the default queue).
    task_modules: tuple[str, ...] = ()
    task_queue: str | None = None
    routes: dict[str, RouteAdditions] = field(default_factory=dict)
    item_writes: dict[str, str] = field(default_factory=dict)
    test_plugins: tuple[str, ...] = ()
    package: str | None = None
    files: tuple[str, ...] = ()
    files_with: dict[str, tuple[str, ...]] = field(default_factory=dict)
    touches: dict[str, str] = field(default_factory=dict)
    marks: tuple[str, ...] = ()

    @property
    def owned(self) -> tuple[str, ...]:
        """The patterns of every file the module owns, `files_with` included."""
        return (*self.files, *(p for patterns in self.files_with.values() for p in patterns))


CORE = Module(
    name="core",
    summary="The base service: API, async PostgreSQL access, migrations, logging.",
    dependencies=(
        "fastapi>=0.123,<1",
        "uvicorn[standard]>=0.35,<1",
        "pydantic>=2.11,<3",
        "pydantic-settings>=2.10,<3",
        "sqlalchemy[asyncio]>=2.1,<2.2",
        "asyncpg>=0.30,<1",
        "alembic>=1.16,<2",
        "structlog>=25.1",
        # Swagger UI's and ReDoc's scripts, so /docs and /redoc load nothing from a CDN.
        "fastapi-offline>=1.7,<2",
    ),
    dev_dependencies=(
        "coverage>=7.6",
        # `copier update` at the versions the template renders with: its `render` group
        # pins the same (tests/test_repository.py checks they agree).
        "copier==9.19.1",
        "copier-template-extensions==0.3.4",
        "httpx>=0.28,<1",
        "mypy>=1.17",
        "pre-commit>=4",
        # `lint-imports`: the layers of app/ and the side packages' contracts (pyproject).
        "import-linter>=2.1,<3",
        "pytest>=8.4",
        "pytest-asyncio>=1.1",
        "ruff>=0.12",
    ),
    secrets=("secret_key", "postgres_password", "app_db_password"),
    settings=(
        Setting(
            name="environment",
            choices=("development", "test", "staging", "production"),
            default="development",
            doc="Where it runs; outside development and test, weak secrets are refused.",
        ),
        Setting(
            name="log_level",
            choices=("DEBUG", "INFO", "WARNING", "ERROR"),
            default="INFO",
            doc="Lowest level that is logged.",
        ),
        Setting(
            name="log_format",
            choices=("json", "console"),
            default="json",
            example="console",
            local="console",
            doc="json for machines (production), console for people (development).",
        ),
        Setting(
            name="gc_threshold",
            type="int",
            default=50_000,
            ge=700,
            doc="Allocations between two young-generation garbage collections (Python: 700).",
        ),
        Setting(
            name="secret_key",
            type="SecretStr",
            example="change-me",
            local="{secrets[secret_key]}",
            secret=True,
            doc="Signs tokens and cookies. Generated per project; keep it out of git.",
        ),
        Setting(
            name="database_url",
            example="postgresql+asyncpg://{database_name}_app:change-me@localhost:5432/{database_name}",
            local=(
                "postgresql+asyncpg://{database_name}_app:{secrets[app_db_password]}"
                "@localhost:5432/{database_name}"
            ),
            doc="Database the API serves from, as the least-privilege application role.",
        ),
        Setting(
            name="migration_database_url",
            default=None,
            example="postgresql+asyncpg://postgres:change-me@localhost:5432/{database_name}",
            local=(
                "postgresql+asyncpg://postgres:{secrets[postgres_password]}"
                "@localhost:5432/{database_name}"
            ),
            doc="Database Alembic migrates, as a role allowed to change the schema.",
            compose="migrate",
        ),
        Setting(
            name="test_database_url",
            default=None,
            example=(
                "postgresql+asyncpg://{database_name}_app:change-me@localhost:5432/{database_name}_test"
            ),
            local=(
                "postgresql+asyncpg://{database_name}_app:{secrets[app_db_password]}"
                "@localhost:5432/{database_name}_test"
            ),
            doc="Database the tests use, as the app role; default: DATABASE_URL's name + _test.",
            compose="",
        ),
        Setting(
            name="db_pool_size",
            type="int",
            default=20,
            ge=1,
            doc="Connections each process keeps open.",
        ),
        Setting(
            name="db_max_overflow",
            type="int",
            default=0,
            ge=0,
            doc="Extra connections for bursts, closed as soon as they are returned.",
        ),
        Setting(
            name="db_pool_timeout",
            type="float",
            default=3.0,
            gt=0,
            doc="Seconds to wait for a free pooled connection, then 503 (a checkout is instant).",
        ),
        Setting(
            name="db_pool_recycle",
            type="int",
            default=1800,
            ge=-1,
            doc="Seconds after which a connection is replaced (-1: never).",
        ),
        Setting(
            name="db_statement_timeout_ms",
            type="int",
            default=5000,
            ge=0,
            doc="Server-side limit for one statement (0: none); keep it below DB_COMMAND_TIMEOUT.",
        ),
        Setting(
            name="db_connect_timeout",
            type="float",
            default=3.0,
            gt=0,
            doc="Seconds to open a connection, then 503 (a healthy server takes milliseconds).",
        ),
        Setting(
            name="db_command_timeout",
            type="float",
            default=6.0,
            gt=0,
            doc="Seconds to wait for a statement's answer, then 503; above the statement timeout.",
        ),
        Setting(
            name="db_tcp_keepalives_idle",
            type="int",
            default=10,
            ge=1,
            doc="Idle seconds before TCP keepalive probes, both ends (dead after 10 + 5 x 3 s).",
        ),
        Setting(
            name="db_tcp_keepalives_interval",
            type="int",
            default=5,
            ge=1,
            doc="Seconds between unanswered TCP keepalive probes.",
        ),
        Setting(
            name="db_tcp_keepalives_count",
            type="int",
            default=3,
            ge=1,
            doc="Unanswered TCP keepalive probes after which a connection is dead.",
        ),
        Setting(
            name="db_echo",
            type="bool",
            default=False,
            doc="Log every SQL statement (development only: it is slow and verbose).",
        ),
        Setting(
            name="api_docs",
            choices=("auto", "on", "off"),
            default="auto",
            doc="Serve /openapi.json, /docs and /redoc; auto: everywhere but production.",
        ),
        Setting(
            name="cors_origins",
            type="list[str]",
            default=[],
            example='["http://localhost:3000"]',
            doc="Origins allowed to call the API from a browser (JSON list).",
        ),
        Setting(
            name="trusted_proxies",
            type="list[str]",
            default=[],
            example='["10.0.0.0/8"]',
            doc="Proxies (addresses, networks) whose X-Forwarded-For/-Proto are believed; JSON.",
        ),
        Setting(
            name="max_request_body_bytes",
            type="int",
            default=1_048_576,
            ge=1,
            doc="Largest request body accepted; a larger one gets 413 before it is read.",
        ),
        Setting(
            name="max_request_header_bytes",
            type="int",
            default=16_384,
            ge=1024,
            doc="Largest total size of a request's headers; larger ones get 431.",
        ),
        Setting(
            name="web_concurrency",
            type="int",
            default=None,
            ge=1,
            doc="Worker processes of the server (default: 1; gunicorn: the CPUs of the quota).",
        ),
        Setting(
            name="shutdown_drain_seconds",
            type="float",
            default=5.0,
            ge=0,
            doc="After SIGTERM: seconds of answering not-ready while still serving everything.",
        ),
        Setting(
            name="shutdown_timeout_seconds",
            type="int",
            default=10,
            ge=0,
            doc="Then: seconds requests in flight get to finish before they are cancelled.",
        ),
        Setting(
            name="prestart_wait_seconds",
            type="float",
            default=60.0,
            gt=0,
            doc="How long the entrypoint (app/prestart.py) waits for PostgreSQL to answer.",
        ),
        Setting(
            name="migrate_on_start",
            type="bool",
            default=False,
            doc="Migrate on start, one replica at a time (needs MIGRATION_DATABASE_URL).",
        ),
        Setting(
            name="reset_db",
            type="bool",
            default=False,
            doc="Development only: empty, migrate and seed the database on every start.",
        ),
        Setting(
            name="postgres_password",
            app=False,
            secret=True,
            example="change-me",
            local="{secrets[postgres_password]}",
            doc="Password of the compose database's superuser (compose and migrations only).",
        ),
        Setting(
            name="app_db_password",
            app=False,
            secret=True,
            example="change-me",
            local="{secrets[app_db_password]}",
            doc="Password of the application role that sql/init_db.sql creates.",
        ),
        Setting(
            name="http_port",
            type="int",
            app=False,
            example="{http_port}",
            local="{http_port}",
            doc="Host port compose publishes the API on.",
        ),
    ),
    # Compose's view of the database and the secret key; .env's URLs are the host's view.
    compose_env={
        "DATABASE_URL": (
            "postgresql+asyncpg://{database_name}_app:${{APP_DB_PASSWORD:?set APP_DB_PASSWORD"
            " in .env}}@db:5432/{database_name}"
        ),
        "MIGRATION_DATABASE_URL": (
            "postgresql+asyncpg://postgres:${{POSTGRES_PASSWORD:?set POSTGRES_PASSWORD"
            " in .env}}@db:5432/{database_name}"
        ),
        "SECRET_KEY": "${{SECRET_KEY:?set SECRET_KEY in .env}}",
    },
    routers=(
        Router(module="app.api.health"),
        Router(module="app.api.v1.items", prefix="/api/v1"),
    ),
    models=("app.models.item:Item",),
    test_plugins=("tests.plugins.app",),
)

AUTH = Module(
    name="auth",
    question="with_auth",
    summary="Users, OAuth2 password login, rotating refresh tokens, permissions.",
    dependencies=(
        "pyjwt>=2.10,<3",
        "pwdlib[argon2]>=0.2.1,<1",
        "python-multipart>=0.0.20",
        "email-validator>=2.2,<3",
    ),
    secrets=("first_superuser_password",),
    settings=(
        Setting(
            name="access_token_minutes",
            type="int",
            default=15,
            ge=1,
            doc="Lifetime of an access token (a JWT).",
        ),
        Setting(
            name="refresh_token_days",
            type="int",
            default=14,
            ge=1,
            doc="Lifetime of a refresh token; each use replaces it with a new one.",
        ),
        Setting(
            name="jwt_issuer",
            default="{project_slug}",
            doc="The iss claim this service writes into tokens and insists on reading.",
        ),
        Setting(
            name="jwt_audience",
            default="{project_slug}",
            doc="The aud claim this service writes into tokens and insists on reading.",
        ),
        Setting(
            name="login_lockout_failures",
            type="int",
            default=5,
            ge=1,
            doc="Wrong passwords in a row after which an account is locked for a while.",
        ),
        Setting(
            name="login_lockout_seconds",
            type="int",
            default=60,
            ge=1,
            doc="The first lock; each further wrong password doubles it, up to an hour.",
        ),
        Setting(
            name="first_superuser_email",
            default=None,
            example="admin@example.com",
            local="{author_email}",
            doc="Admin the migrate step creates if missing (with the password below).",
            compose="migrate",
        ),
        Setting(
            name="first_superuser_password",
            type="SecretStr",
            default=None,
            example="change-me",
            local="{secrets[first_superuser_password]}",
            secret=True,
            doc="Password of that first admin. Generated per project.",
            compose="migrate",
        ),
    ),
    routers=(
        Router(module="app.api.v1.auth", prefix="/api/v1"),
        Router(module="app.api.v1.users", prefix="/api/v1"),
    ),
    models=("app.models.user:User", "app.models.refresh_token:RefreshToken"),
    # Every item route may answer 401 and 403: the writes need a user who may make them.
    routes={
        "app.api.v1.items": RouteAdditions(responses=("app.auth.errors:AUTH_ERROR_RESPONSES",))
    },
    item_writes={"guard": "app.api.auth:ItemGuardDep"},
    test_plugins=("tests.plugins.auth",),
    # Its password is for the migrate step alone, not for the API that serves sign-ins.
    prestart=("app.auth.bootstrap",),
    package="app.auth",
    files=(
        "app/auth",
        "app/api/auth.py",
        "app/api/v1/auth.py",
        "app/api/v1/users.py",
        "app/db/repositories/users.py",
        "app/db/repositories/refresh_tokens.py",
        "app/models/user.py",
        "app/models/refresh_token.py",
        "app/schema/user.py",
        "app/schema/token.py",
        "app/services/users.py",
        "app/services/tokens.py",
        "app/db/migrations/versions/0002_create_users.py",
        "app/db/migrations/versions/0004_account_security.py",
        "tests/auth_helpers.py",
        "tests/plugins/auth.py",
        "tests/test_auth_*.py",
        # Needs both modules: excluded when either is off.
        "tests/test_rate_limit_by_user.py",
        "tests/test_rate_limit_signup.py",
        "tests/test_mail_welcome.py",
    ),
    touches={
        "app/models/item.py.jinja": (
            "The `ForeignKey` import and the nullable `owner_id` column of an item."
        ),
        "app/schema/item.py.jinja": "`owner_id` in `ItemRead`.",
        "app/rate_limit/keys.py.jinja": (
            "A `caller_key` that counts a signed-in caller by user id (through"
            " `OptionalUser`) instead of by client address."
        ),
        "tests/test_database_faults.py.jinja": (
            "A bearer token on the requests, and `GET /api/v1/users/me` among the paths"
            " that must answer 503 when the database is down."
        ),
        "README.md.jinja": (
            'The "Accounts and permissions" section, the first admin in the configuration,'
            " the auth part of rate limiting and mail, and its lines in the layout tree."
        ),
    },
    marks=(
        # The code's own names, its URLs and its words in prose. Not "auth" alone
        # (author_name), "user" (the Dockerfile's USER) or Swagger UI's OAuth2 redirect
        # page (every docs page has one).
        r"(?i:jwt|argon|first.superuser|refresh.token|oauth2(?!.?redirect)|/auth/|/users)",
        r"(?i:hashed_password|owner_id|\bowners?\b)",
        r"\busers\b|CurrentUser",
    ),
)

REDIS = Module(
    name="redis",
    summary="One Redis client for every module that needs one.",
    dependencies=("redis>=5.2,<9",),
    settings=(
        Setting(
            name="redis_url",
            default="redis://localhost:6379/0",
            local="redis://localhost:6379/0",
            doc="Redis, shared by every module that uses it.",
        ),
        Setting(
            name="test_redis_url",
            default=None,
            example="redis://localhost:6379/15",
            local="redis://localhost:6379/15",
            doc="Redis the tests use; defaults to REDIS_URL. Keys get a per-test prefix.",
            compose="",
        ),
        Setting(
            name="redis_key_prefix",
            default="{project_slug}",
            doc="Prefix of every key, so that services can share one Redis.",
        ),
        Setting(
            name="redis_timeout_seconds",
            type="float",
            default=0.25,
            doc="Seconds a Redis command may take before it counts as Redis being down.",
        ),
    ),
    lifespan=(
        Hook(
            module="app.redis",
            function="redis_client",
            field="redis",
            provides="app.redis:RedisGuard",
        ),
    ),
    compose_services="""
        redis:
          image: redis:7-alpine
          command: ["redis-server", "--save", "", "--appendonly", "no"]
          # Published on loopback for `make run` and `make test` outside compose.
          ports:
            - "127.0.0.1:6379:6379"
          healthcheck:
            test: ["CMD", "redis-cli", "ping"]
            interval: 5s
            timeout: 3s
            retries: 10
    """,
    compose_env={"REDIS_URL": "redis://redis:6379/0"},
    test_plugins=("tests.plugins.redis",),
    package="app.redis",
    files=(
        "app/redis.py",
        "tests/redis_helpers.py",
        "tests/plugins/redis.py",
        "tests/test_redis_*.py",
    ),
    touches={
        ".github/workflows/ci.yml.jinja": "A Redis service container and `TEST_REDIS_URL`.",
        "README.md.jinja": (
            "Redis among the services to run locally, in `.env` and in the readiness check,"
            " and its line in the layout tree."
        ),
    },
)

CACHE = Module(
    name="cache",
    question="with_cache",
    summary="A Redis cache: a cached decorator, invalidation by prefix and tag.",
    implies=("redis",),
    settings=(
        Setting(
            name="cache_enabled",
            type="bool",
            default=True,
            doc="Switch the cache off without touching code (reads go to the database).",
        ),
        Setting(
            name="cache_default_ttl",
            type="int",
            default=300,
            ge=1,
            doc="Seconds a cached value lives unless the caller says otherwise.",
        ),
    ),
    models=("app.models.cache_version:CacheVersion",),
    lifespan=(
        Hook(
            module="app.cache.lifespan",
            function="cache_service",
            field="cache",
            provides="app.cache.service:CacheService",
        ),
    ),
    # `@cached` on the item list; each write invalidates what it changed.
    routes={"app.api.v1.items": RouteAdditions(imports=("app.cache.decorator:cached",))},
    item_writes={"invalidation": "app.api.cache:CacheInvalidationDep"},
    package="app.cache",
    files=(
        "app/cache",
        "app/api/cache.py",
        "app/models/cache_version.py",
        "app/db/migrations/versions/0003_create_cache_versions.py",
        "tests/test_cache_*.py",
    ),
    touches={
        "app/api/v1/items.py.jinja": "`@cached` on `list_items`.",
        "README.md.jinja": 'The "Cache" section and its lines in the layout tree.',
    },
)

RATE_LIMIT = Module(
    name="rate_limit",
    question="with_rate_limit",
    summary="Rate limiting per route or router, by client IP (and user with auth).",
    implies=("redis",),
    settings=(
        Setting(
            name="rate_limit_enabled",
            type="bool",
            default=True,
            doc="Switch every rate limit off (e.g. behind a gateway that limits already).",
        ),
    ),
    lifespan=(
        Hook(
            module="app.rate_limit.lifespan",
            function="rate_limiter",
            field="rate_limiter",
            provides="app.rate_limit.limiter:RateLimiter",
        ),
    ),
    routes={
        "app.api.v1.items": RouteAdditions(
            responses=("app.rate_limit.limiter:RATE_LIMIT_RESPONSES",),
            dependencies=("app.rate_limit.budgets:ITEMS_RATE_LIMIT",),
        )
    },
    package="app.rate_limit",
    files=("app/rate_limit", "tests/test_rate_limit*.py"),
    touches={
        "app/api/v1/auth.py.jinja": (
            "`RateLimit` on `POST /token` (login) and `POST /signup`, with 429 in their responses."
        ),
        "README.md.jinja": 'The "Rate limiting" section and its lines in the layout tree.',
    },
    marks=(r"(?i:rate.?limit)",),
)

CELERY = Module(
    name="celery",
    question="with_celery",
    summary="Celery workers and beat on Redis, with async tasks and database sessions.",
    implies=("redis",),
    dependencies=("celery[redis]>=5.5,<6",),
    dev_dependencies=("celery-types>=0.22",),
    settings=(
        Setting(
            name="celery_broker_url",
            default=None,
            example="redis://localhost:6379/1",
            local="redis://localhost:6379/1",
            doc="Celery's broker and result backend; defaults to REDIS_URL.",
        ),
        Setting(
            name="celery_task_time_limit",
            type="int",
            default=300,
            ge=1,
            doc="Seconds after which a task is killed (a soft limit warns 10% earlier).",
        ),
        Setting(
            name="celery_retry_backoff_max",
            type="int",
            default=60,
            ge=1,
            doc="Longest wait, in seconds, before a task that met a transient error retries.",
        ),
    ),
    compose_app_services="""
        worker:
          <<: *app
          command: ["celery", "-A", "app.worker.celery_app", "worker", "--loglevel", "INFO"]
          depends_on:
            db:
              condition: service_healthy
            redis:
              condition: service_healthy
            migrate:
              condition: service_completed_successfully
          # A busy worker answers late: its reply is awaited 5 s (Celery's default is 1 s).
          healthcheck:
            test: ["CMD-SHELL",
                   "celery -A app.worker.celery_app inspect ping --timeout 5 -d celery@$$HOSTNAME"]
            interval: 30s
            timeout: 10s
            # Room for a start on a busy host; the first probe that passes ends it.
            start_period: 60s
            retries: 3

        beat:
          <<: *app
          command: ["celery", "-A", "app.worker.celery_app", "beat",
                    "--schedule", "/tmp/celerybeat-schedule", "--loglevel", "INFO"]
          # After migrate: the image's entrypoint refuses a schema that is not the code's.
          depends_on:
            db:
              condition: service_healthy
            redis:
              condition: service_healthy
            migrate:
              condition: service_completed_successfully
          # Healthy while beat keeps waking up (app/worker/beat.py): a hung beat is still alive.
          healthcheck:
            test: ["CMD", "python", "-m", "app.worker.beat", "/tmp/celerybeat-schedule"]
            interval: 30s
            timeout: 5s
            start_period: 60s
            retries: 3
    """,
    make_targets=(
        MakeTarget(
            "worker",
            "Run a Celery worker on every queue",
            "$(BIN)/celery -A app.worker.celery_app worker --loglevel INFO",
        ),
        MakeTarget(
            "beat",
            "Run the Celery beat scheduler",
            "$(BIN)/celery -A app.worker.celery_app beat --schedule $(VENV)/celerybeat-schedule",
        ),
        MakeTarget(
            "events",
            "Watch the workers' tasks live (successes, retries, failures)",
            "$(BIN)/celery -A app.worker.celery_app events",
        ),
    ),
    # In compose the broker is the redis service; .env's localhost is the host's view.
    compose_env={"CELERY_BROKER_URL": "redis://redis:6379/1"},
    task_modules=("app.worker.tasks",),
    test_plugins=("tests.worker_probe", "tests.plugins.celery"),
    package="app.worker",
    files=(
        "app/worker",
        "tests/worker_probe.py",
        "tests/plugins/celery.py",
        "tests/test_worker*.py",
    ),
    touches={
        "app/mail/service.py.jinja": (
            "Mail sent by queueing the `send_mail` task instead of by SMTP in the API process."
        ),
        "tests/test_mail_welcome.py.jinja": (
            "The `worker` fixture on every test, so that a real worker sends the mails."
        ),
        "README.md.jinja": (
            'The "Background tasks" section, Celery\'s part of the "Mail" section, and'
            " its lines in the layout tree."
        ),
    },
    marks=("async_task",),
)

MAIL = Module(
    name="mail",
    question="with_mail",
    summary="E-mail over SMTP with HTML and text templates, sent in the background.",
    dependencies=("aiosmtplib>=3,<6", "jinja2>=3.1,<4"),
    dev_dependencies=("aiosmtpd>=1.4",),
    settings=(
        Setting(
            name="smtp_host",
            default="localhost",
            doc="SMTP server that sends the mail (compose runs a catcher, Mailpit).",
        ),
        Setting(
            name="smtp_port",
            type="int",
            default=1025,
            ge=1,
            le=65535,
            doc="Its port: 1025 for the local catcher, usually 587 in production.",
        ),
        Setting(
            name="smtp_username",
            default=None,
            doc="Login for the SMTP server, if it needs one.",
        ),
        Setting(
            name="smtp_password",
            type="SecretStr",
            default=None,
            doc="Password for that login.",
        ),
        Setting(
            name="smtp_starttls",
            type="bool",
            default=False,
            doc="Upgrade the connection with STARTTLS (production servers want it).",
        ),
        Setting(
            name="mail_from",
            default="{project_slug} <no-reply@example.com>",
            doc="Sender of every mail.",
        ),
        Setting(
            name="email_confirmation_url",
            default="http://localhost:8000/confirm-email",
            example="https://app.example.com/confirm-email",
            doc="Page the confirmation mail links to (with ?token=); it POSTs it to the API.",
        ),
    ),
    compose_services="""
        mailpit:
          image: axllent/mailpit:v1.21
          # The web UI, and SMTP for the service when it runs outside compose.
          ports:
            - "127.0.0.1:8025:8025"
            - "127.0.0.1:1025:1025"
          healthcheck:
            test: ["CMD", "/mailpit", "readyz"]
            interval: 10s
            timeout: 3s
            retries: 5
    """,
    compose_env={"SMTP_HOST": "mailpit", "SMTP_PORT": "1025"},
    task_modules=("app.mail.tasks",),
    task_queue="mail",
    # mail_worker (mail through a Celery worker) comes after mail, whose fixture it overrides.
    test_plugins=("tests.plugins.mail", "tests.plugins.mail_worker"),
    package="app.mail",
    files=(
        "app/mail",
        "app/api/mail.py",
        "tests/test_mail*.py",
        "tests/smtp_helpers.py",
        "tests/plugins/mail.py",
    ),
    # Mail through a Celery worker: its task and the tests' worker fixture.
    files_with={"celery": ("app/mail/tasks.py", "tests/plugins/mail_worker.py")},
    touches={
        "app/api/v1/auth.py.jinja": (
            "A confirmation link mailed on sign-up, and `POST /confirm-email`, which"
            " confirms the address and sends the welcome mail."
        ),
        "app/api/v1/users.py.jinja": (
            "An `update_me` that mails a confirmation link to a new e-mail address."
        ),
        "README.md.jinja": (
            'The "Mail" section, the mail part of the auth endpoints and of background'
            " tasks, and its lines in the layout tree."
        ),
    },
    marks=(r"(?i:smtp)", "MailService"),
)

# Optional modules, keyed by name, in the order their lifespan hooks run. Each is switched
# by its `question` in copier.yml, or implied by another module (no question).
MODULES: dict[str, Module] = {
    module.name: module for module in (AUTH, REDIS, CACHE, RATE_LIMIT, CELERY, MAIL)
}
