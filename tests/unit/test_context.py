"""The context extension and the registry, without rendering anything."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import context
import pytest
from answers import yes_no_error
from context import (
    FALLBACK_SLUG,
    SLUG_PATTERN,
    answered_yes,
    compose_services,
    derive,
    enabled_modules,
    env_quoted,
    excluded_paths,
    generate_secrets,
    slugify,
)
from jinja2 import Environment
from package_managers import DEFAULT, MANAGERS
from registry import CORE, MODULES, REQUIRED, Module, Router, Setting
from servers import DEFAULT as DEFAULT_SERVER
from servers import SERVERS

CACHE = Module(
    name="cache",
    question="with_cache",
    summary="Redis cache.",
    dependencies=("redis>=5", "fastapi>=0.123,<1"),
    settings=(Setting(name="redis_url", doc="Redis.", example="redis://localhost:6379/0"),),
    compose_services="""
        redis:
          image: redis:7-alpine
    """,
    routers=(Router(module="app.api.v1.cache", prefix="/api/v1"),),
    files=("app/cache/**", "tests/test_cache.py"),
)
WORKER = Module(
    name="worker",
    question="with_worker",
    summary="Background jobs.",
    files=("app/worker.py",),
)
FAKE = {m.name: m for m in (CACHE, WORKER)}
SECRETS = {
    "secret_key": "s" * 43,
    "postgres_password": "p" * 43,
    "app_db_password": "a" * 43,
    "first_superuser_password": "f" * 43,
}
ANSWERS = {"database_name": "orders", "http_port": 8000}


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Orders API", "orders-api"),
        ("Café déjà vu", "cafe-deja-vu"),
        ("  --Lots   of -- punctuation!! ", "lots-of-punctuation"),
        ("42 Answers", "answers"),
        ("日本語のサービス", FALLBACK_SLUG),
        ("", FALLBACK_SLUG),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert SLUG_PATTERN.fullmatch(slugify(name))


def test_secrets_are_fresh_and_url_safe() -> None:
    first, second = generate_secrets(["a", "b"]), generate_secrets(["a", "b"])

    assert first["a"] != second["a"]
    assert first["a"] != first["b"]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{40,}", value) for value in first.values())


def test_core_is_always_on_and_modules_follow_their_question() -> None:
    assert enabled_modules({}, FAKE) == [CORE]
    assert enabled_modules({"with_cache": True}, FAKE) == [CORE, CACHE]
    assert enabled_modules({"with_cache": False}, FAKE) == [CORE]


def test_files_of_modules_that_are_off_are_excluded() -> None:
    assert excluded_paths({"with_cache": True, "with_worker": True}, FAKE) == ""
    assert excluded_paths({}, FAKE).splitlines() == [
        "app/cache/**",
        "tests/test_cache.py",
        "app/worker.py",
    ]


def test_derive_merges_what_the_enabled_modules_contribute() -> None:
    off = derive(ANSWERS, FAKE, SECRETS)
    on = derive({**ANSWERS, "with_cache": True}, FAKE, SECRETS)

    assert off["modules"] == ["core"]
    assert on["modules"] == ["core", "cache"]
    assert "redis>=5" in on["dependencies"]
    assert "redis>=5" not in off["dependencies"]
    # A dependency two modules declare is listed once.
    assert on["dependencies"].count("fastapi>=0.123,<1") == 1
    assert on["dependencies"] == sorted(on["dependencies"])
    assert on["compose_services"] == ["redis:\n  image: redis:7-alpine"]
    assert on["api_depends_on"] == ["redis"]
    assert off["compose_services"] == []
    assert [r.module for r in on["routers"]][-1] == "app.api.v1.cache"
    assert "REDIS_URL" in [v["name"] for v in on["env_example"]]
    assert "REDIS_URL" not in [v["name"] for v in off["env_example"]]


def test_secrets_reach_the_local_env_only() -> None:
    derived = derive(ANSWERS, MODULES, SECRETS)
    local = {v["name"]: v["value"] for v in derived["env_local"]}
    example = {v["name"]: v["value"] for v in derived["env_example"]}

    assert local["SECRET_KEY"] == SECRETS["secret_key"]
    assert SECRETS["app_db_password"] in local["DATABASE_URL"]
    assert local["DATABASE_URL"].endswith("@localhost:5432/orders")
    assert not [v for v in example.values() for s in SECRETS.values() if s in v]
    assert all(s.secret is False or s.env_example == "change-me" for s in CORE.settings)


@pytest.mark.parametrize("name", ["uv", "poetry"])
def test_the_package_manager_is_the_chosen_one_and_a_dev_dependency(name: str) -> None:
    derived = derive({**ANSWERS, "package_manager": name}, MODULES, SECRETS)

    manager = MANAGERS[name]
    assert derived["manager"] is manager
    # `copier update` locks with the project's own tool (copier.yml's migration).
    assert manager.requirement in derived["dev_dependencies"]
    assert [d for d in derived["dev_dependencies"] if d.startswith(("uv==", "poetry=="))] == [
        manager.requirement
    ]
    assert derived["dev_dependencies"] == sorted(derived["dev_dependencies"])


def test_the_package_manager_defaults_until_answered() -> None:
    # While prompting, and for an answer copier.yml's validator is about to refuse.
    assert derive({}, MODULES, SECRETS)["manager"] is MANAGERS[DEFAULT]
    assert derive({"package_manager": "pip"}, MODULES, SECRETS)["manager"] is MANAGERS[DEFAULT]


@pytest.mark.parametrize("name", list(SERVERS))
def test_the_web_server_is_the_chosen_one_and_its_distributions_dependencies(name: str) -> None:
    derived = derive({**ANSWERS, "server": name}, MODULES, SECRETS)

    assert derived["web_server"] is SERVERS[name]
    others = {d for s in SERVERS.values() if s.name != name for d in s.dependencies}
    assert set(SERVERS[name].dependencies) <= set(derived["dependencies"])
    assert others.isdisjoint(derived["dependencies"])
    assert derived["dependencies"] == sorted(derived["dependencies"])


def test_the_web_server_defaults_until_answered() -> None:
    assert derive({}, MODULES, SECRETS)["web_server"] is SERVERS[DEFAULT_SERVER]
    assert derive({"server": "hypercorn"}, MODULES, SECRETS)["web_server"].name == "uvicorn"


def test_derive_tolerates_questions_not_answered_yet() -> None:
    # Copier runs the hook while it is still prompting.
    derived = derive({}, MODULES, SECRETS)

    assert (
        "postgresql+asyncpg://_app:"
        in {v["name"]: v["value"] for v in derived["env_local"]}["DATABASE_URL"]
    )


def test_registry_is_consistent() -> None:
    names = [s.env for m in (CORE, *MODULES.values()) for s in m.settings]
    assert len(names) == len(set(names)), "a variable is declared twice"
    questions = [m.question for m in MODULES.values() if m.question]
    assert len(questions) == len(set(questions))
    implied = {name for m in MODULES.values() for name in m.implies}
    for module in MODULES.values():
        # A module nobody asks for must be implied by one that is asked for.
        assert module.question or module.name in implied, f"{module.name} can never be on"
        assert set(module.implies) <= set(MODULES), module.name
    for setting in CORE.settings:
        # Each doc becomes a docstring in app/core/settings.py and must fit the line limit.
        assert len(setting.doc) <= 88, setting.name
        assert setting.app or setting.required


def test_defaults_may_use_the_answers() -> None:
    issuer = next(
        s
        for s in derive({"project_slug": "orders", "with_auth": True}, MODULES, SECRETS)[
            "app_settings"
        ]
        if s["name"] == "jwt_issuer"
    )

    assert issuer["default"] == '"orders"'


def test_models_and_set_up_steps_follow_the_modules() -> None:
    on = derive({**ANSWERS, "with_auth": True}, MODULES, SECRETS)
    off = derive({**ANSWERS, "with_auth": False}, MODULES, SECRETS)

    assert {"module": "app.models.user", "name": "User"} in on["models"]
    assert [m["name"] for m in off["models"]] == ["Item"]
    assert on["prestart"] == ["app.auth.bootstrap"]
    assert off["prestart"] == []
    assert "FIRST_SUPERUSER_PASSWORD" in on["compose_migrate_env"]
    assert "FIRST_SUPERUSER_PASSWORD" not in on["compose_app_env"]
    assert set(MODULES["auth"].files) <= set(off["excluded_paths"].splitlines())


@pytest.mark.parametrize(
    ("mail", "celery", "excluded"),
    [(True, True, False), (True, False, True), (False, True, True), (False, False, True)],
)
def test_files_a_module_has_with_another_exist_only_with_both(
    mail: bool, celery: bool, excluded: bool
) -> None:
    answers = {**ANSWERS, "with_mail": mail, "with_celery": celery}
    off = derive(answers, MODULES, SECRETS)["excluded_paths"].splitlines()

    for path in ("app/mail/tasks.py", "tests/plugins/mail_worker.py"):
        assert (path in off) is excluded, path
    assert ("tests.plugins.mail_worker" in derive(answers, MODULES, SECRETS)["test_plugins"]) is (
        not excluded
    )


def test_shared_modules_are_on_when_any_module_implies_them() -> None:
    def names(**answers: bool) -> list[str]:
        return [m.name for m in enabled_modules(answers, MODULES)]

    assert names(with_cache=False, with_rate_limit=False) == ["core"]
    assert names(with_cache=True) == ["core", "redis", "cache"]
    assert names(with_rate_limit=True) == ["core", "redis", "rate_limit"]
    # Declared once, contributed once, whichever of the two asks for it.
    both = derive({**ANSWERS, "with_cache": True, "with_rate_limit": True}, MODULES, SECRETS)
    assert both["modules"] == ["core", "redis", "cache", "rate_limit"]
    assert [compose_services(text) for text in both["compose_services"]] == [
        compose_services(MODULES["redis"].compose_services)
    ]
    assert both["api_depends_on"] == ["redis"]
    assert [v["name"] for v in both["env_example"]].count("REDIS_URL") == 1
    assert "app/redis.py" in derive(ANSWERS, MODULES, SECRETS)["excluded_paths"].splitlines()


def test_workers_get_their_tasks_queues_and_targets_from_the_registry() -> None:
    both = derive({**ANSWERS, "with_celery": True, "with_mail": True}, MODULES, SECRETS)
    celery_only = derive({**ANSWERS, "with_celery": True, "with_mail": False}, MODULES, SECRETS)
    mail_only = derive({**ANSWERS, "with_celery": False, "with_mail": True}, MODULES, SECRETS)

    assert both["task_modules"] == ["app.worker.tasks", "app.mail.tasks"]
    assert both["task_routes"] == {"app.mail.tasks.*": "mail"}
    assert celery_only["task_routes"] == {}
    assert [list(compose_services(text)) for text in both["compose_app_services"]] == [
        ["worker", "beat"]
    ]
    assert [t.name for t in both["make_targets"]] == ["worker", "beat", "events"]
    # Mail's Celery task is a file of both modules: gone when either is off.
    assert "app/mail/tasks.py" in mail_only["excluded_paths"].splitlines()
    assert "app/mail/tasks.py" not in both["excluded_paths"].splitlines()


@pytest.mark.parametrize(
    ("value", "yes"),
    [
        (True, True),
        (False, False),
        (None, False),
        ("true", True),
        (" Yes ", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("no", False),
        ("0", False),
        ("", False),
    ],
)
def test_answers_typed_on_the_command_line_count_as_copier_casts_them(
    value: object, yes: bool
) -> None:
    assert answered_yes(value) is yes


def test_modules_answered_no_on_the_command_line_are_off_while_validating() -> None:
    # Copier validates a question while later answers given with --data are still text.
    answers = {"with_cache": "false", "with_worker": "true"}

    assert [m.name for m in enabled_modules(answers, FAKE)] == ["core", "worker"]


def test_the_hook_derives_from_the_answers_each_context_holds() -> None:
    """Copier asks for a context per file: one set of answers is derived once, and a
    change of answer (as while the questions are asked) is derived anew."""
    hook = context.ContextUpdater(Environment())
    defaults = {"_copier_conf": {}, **ANSWERS, "with_auth": True, "with_celery": False}
    first, again = dict(defaults), dict(defaults)
    celery = defaults | {"with_celery": True}

    for answers in (first, again, celery):
        hook.hook(answers)

    assert first["modules"] == again["modules"] == derive(defaults, MODULES, SECRETS)["modules"]
    assert "celery" not in first["modules"]
    assert "celery" in celery["modules"]
    assert {m for m in celery["modules"] if m not in first["modules"]} == {"celery", "redis"}
    # One run, one set of secrets, whatever the answers.
    assert first["env_local"] == again["env_local"]
    secret = {line["name"]: line["value"] for line in first["env_local"]}["SECRET_KEY"]
    assert {"name": "SECRET_KEY", "value": secret} in [
        {k: line[k] for k in ("name", "value")} for line in celery["env_local"]
    ]


def test_each_version_of_the_template_uses_its_own_registry(tmp_path: Path) -> None:
    """`copier update` renders the project's version and the new one in one process."""
    extensions = Path(context.__file__).parent
    contexts = []
    for version, summary in (("old", "The old summary."), ("new", "The new summary.")):
        copy = tmp_path / version / "extensions"
        shutil.copytree(extensions, copy, ignore=shutil.ignore_patterns("__pycache__"))
        registry = copy / "registry.py"
        text = registry.read_text(encoding="utf-8")
        registry.write_text(text.replace(MODULES["auth"].summary, summary), encoding="utf-8")
        # As copier-template-extensions loads it: by path, under one name for every version.
        spec = importlib.util.spec_from_file_location(
            "copier_extension_context", copy / "context.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        contexts.append(module)

    old, new = contexts
    assert old.MODULES["auth"].summary == "The old summary."
    assert new.MODULES["auth"].summary == "The new summary."


def test_compose_gives_values_only_to_settings_and_the_owner_role_to_migrate_alone() -> None:
    every = {**ANSWERS, "with_rate_limit": True, "with_celery": True, "with_mail": True}
    derived = derive(every, MODULES, SECRETS)
    names = {s.env for m in [CORE, *MODULES.values()] for s in m.settings if s.app}

    assert {k for m in [CORE, *MODULES.values()] for k in m.compose_env} <= names
    assert "MIGRATION_DATABASE_URL" not in derived["compose_app_env"]
    assert derived["compose_migrate_env"]["MIGRATION_DATABASE_URL"].startswith(
        "postgresql+asyncpg://postgres:${POSTGRES_PASSWORD:?"
    )
    assert derived["compose_app_env"]["LOG_LEVEL"] is None  # from .env, when set there


@pytest.mark.parametrize("typed", [True, False, "yes", "No", "ON", "off", "1", "0", "y", "N"])
def test_a_documented_boolean_is_a_yes_no_answer(typed: object) -> None:
    assert yes_no_error("with_mail", {"with_mail": typed}) == ""


@pytest.mark.parametrize("typed", ["flase", "2", "", "maybe", "none", 3])
def test_anything_else_is_refused_by_name(typed: object) -> None:
    assert yes_no_error("with_mail", {"with_mail": typed}).startswith("with_mail must be")


def test_an_answer_not_typed_is_left_to_copier() -> None:
    assert yes_no_error("with_mail", {"with_auth": "flase"}) == ""


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("redis://localhost:6379/0", "'redis://localhost:6379/0'"),
        ("my-service <no-reply@example.com>", "'my-service <no-reply@example.com>'"),
        ('say "hi" $HOME', """'say "hi" $HOME'"""),
        ("o'brien@example.com", '"o\'brien@example.com"'),
        ("o'brien$x@example.com", None),
        ("a\\b", None),
    ],
)
def test_env_values_are_quoted_for_a_shell_dotenv_and_compose_alike(
    value: str, quoted: str | None
) -> None:
    assert env_quoted(value) == quoted


def test_env_holds_only_per_project_settings_and_every_required_one() -> None:
    every = {**ANSWERS, **{m.question: True for m in MODULES.values() if m.question}}
    derived = derive(every, MODULES, SECRETS)
    settings = [s for m in [CORE, *MODULES.values()] for s in m.settings]

    assert [v["name"] for v in derived["env_local"]] == [
        s.env for s in settings if s.local is not None
    ]
    assert [v["name"] for v in derived["env_example"]] == [s.env for s in settings]
    assert all(v["line"] for v in derived["env_local"] + derived["env_example"])
    # A required field must be set somewhere: .env is where a developer gets it.
    assert [s.env for s in settings if s.app and s.required and s.local is None] == []
    # Settings with a default in code stay out of .env, so that a changed default applies.
    assert "LOG_LEVEL" not in [v["name"] for v in derived["env_local"]]
    assert "DB_POOL_SIZE" not in [v["name"] for v in derived["env_local"]]


def test_side_packages_are_those_of_the_modules_that_are_on() -> None:
    everything = {"with_auth": True, "with_cache": True, "with_rate_limit": True}
    everything |= {"with_celery": True, "with_mail": True}
    on = derive({**ANSWERS, **everything}, MODULES, SECRETS)
    bare = derive({**ANSWERS, **dict.fromkeys(everything, False)}, MODULES, SECRETS)

    assert on["side_packages"] == [
        "app.auth",
        "app.redis",
        "app.cache",
        "app.rate_limit",
        "app.worker",
        "app.mail",
    ]
    assert bare["side_packages"] == []
    # A side package is the module's own: its files are left out when it is off.
    for module in MODULES.values():
        assert module.package, module.name
        path = module.package.replace(".", "/")
        assert path in module.files or f"{path}.py" in module.files, module.name


def test_import_lines_are_as_ruff_sorts_them() -> None:
    assert context.import_lines(
        ["b.mod:cached", "a.mod:Thing", "b.mod:LIMIT", "b.mod:Limiter", "a.mod:Thing"]
    ) == ["from a.mod import Thing", "from b.mod import LIMIT, Limiter, cached"]


def test_merged_dicts() -> None:
    assert context.merged_dicts(["ERRORS"]) == "ERRORS"
    assert context.merged_dicts(["ERRORS", "AUTH"]) == "{**ERRORS, **AUTH}"


def test_route_additions_come_from_the_modules_that_are_on() -> None:
    answers = {"with_auth": True, "with_rate_limit": True, "with_cache": False}
    items = derive(answers, MODULES, SECRETS)["route_additions"]["app.api.v1.items"]
    assert items["responses"] == ["AUTH_ERROR_RESPONSES", "RATE_LIMIT_RESPONSES"]
    assert items["dependencies"] == ["ITEMS_RATE_LIMIT"]
    assert items["imports"] == [
        "from app.auth.errors import AUTH_ERROR_RESPONSES",
        "from app.rate_limit.budgets import ITEMS_RATE_LIMIT",
        "from app.rate_limit.limiter import RATE_LIMIT_RESPONSES",
    ]
    bare = derive({}, MODULES, SECRETS)["route_additions"]["app.api.v1.items"]
    assert bare == {"imports": [], "responses": [], "dependencies": []}


def test_item_writes_take_what_the_modules_give() -> None:
    writes = derive({"with_auth": True, "with_cache": True}, MODULES, SECRETS)["item_writes"]
    assert writes["arguments"] == {"guard": "ItemGuardDep", "invalidation": "CacheInvalidationDep"}
    assert writes["imports"] == [
        "from app.api.auth import ItemGuardDep",
        "from app.api.cache import CacheInvalidationDep",
    ]
    assert derive({}, MODULES, SECRETS)["item_writes"] == {"imports": [], "arguments": {}}


@pytest.mark.parametrize(
    ("answers", "plugins"),
    [
        ({}, ["tests.plugins.app"]),
        ({"with_mail": True}, ["tests.plugins.app", "tests.plugins.mail"]),
        (
            {"with_mail": True, "with_celery": True},
            [
                "tests.plugins.app",
                "tests.plugins.redis",
                "tests.worker_probe",
                "tests.plugins.celery",
                "tests.plugins.mail",
                "tests.plugins.mail_worker",
            ],
        ),
    ],
)
def test_test_plugins_follow_the_modules(answers: dict[str, bool], plugins: list[str]) -> None:
    assert derive(answers, MODULES, SECRETS)["test_plugins"] == plugins


def test_every_test_plugin_is_a_file_of_its_module() -> None:
    for module in [CORE, *MODULES.values()]:
        for plugin in module.test_plugins:
            path = plugin.replace(".", "/") + ".py"
            assert (Path(__file__).parents[2] / "template" / path).is_file(), path
            if module is not CORE:
                assert path in module.owned, path


@pytest.mark.parametrize(
    ("setting", "annotation", "default", "example"),
    [
        (Setting(name="key", doc=".", type="SecretStr"), "SecretStr", None, ""),
        (Setting(name="url", doc="."), "str", None, ""),
        (Setting(name="url", doc=".", default=None), "str | None", "None", ""),
        (
            Setting(name="password", doc=".", type="SecretStr", default=None),
            "SecretStr | None",
            "None",
            "",
        ),
        (
            Setting(name="log_format", doc=".", choices=("json", "console"), default="json"),
            'Literal["json", "console"]',
            '"json"',
            "json",
        ),
        (
            Setting(name="gc_threshold", doc=".", type="int", default=50_000, ge=700),
            "int",
            "Field(default=50_000, ge=700)",
            "50000",
        ),
        (
            Setting(name="port", doc=".", type="int", default=1025, ge=1, le=65535),
            "int",
            "Field(default=1025, ge=1, le=65_535)",
            "1025",
        ),
        (
            Setting(name="timeout", doc=".", type="float", default=3.0, gt=0),
            "float",
            "Field(default=3.0, gt=0)",
            "3",
        ),
        (Setting(name="seconds", doc=".", type="float", default=0.25), "float", "0.25", "0.25"),
        (Setting(name="enabled", doc=".", type="bool", default=True), "bool", "True", "true"),
        (Setting(name="starttls", doc=".", type="bool", default=False), "bool", "False", "false"),
        (Setting(name="origins", doc=".", type="list[str]", default=[]), "list[str]", "[]", "[]"),
        (
            Setting(name="hosts", doc=".", type="list[str]", default=["a", "b"]),
            "list[str]",
            '["a", "b"]',
            '["a", "b"]',
        ),
        (
            Setting(name="prefix", doc=".", default="{project_slug}"),
            "str",
            '"{project_slug}"',
            "{project_slug}",
        ),
        (Setting(name="quote", doc=".", default='say "hi"'), "str", """'say "hi"'""", 'say "hi"'),
    ],
)
def test_a_settings_field_is_written_from_its_data(
    setting: Setting, annotation: str, default: str | None, example: str
) -> None:
    assert setting.annotation == annotation
    assert setting.default_source == default
    assert setting.required is (default is None)
    assert setting.env_example == example


def test_an_explicit_example_wins_over_the_default() -> None:
    setting = Setting(
        name="log_format",
        doc=".",
        choices=("json", "console"),
        default="json",
        example="console",
    )

    assert setting.env_example == "console"
    assert Setting(name="x", doc=".").default is REQUIRED


# Services the compose file itself declares, which a module's services may depend on.
FILE_SERVICES = frozenset({"db", "migrate", "api"})


def test_the_compose_yaml_of_every_module_parses_and_names_only_known_services() -> None:
    declared = {
        m.name: {*compose_services(m.compose_services), *compose_services(m.compose_app_services)}
        for m in [CORE, *MODULES.values()]
    }
    names = [name for services in declared.values() for name in services]
    assert len(names) == len(set(names)), "a service is declared twice"
    assert FILE_SERVICES.isdisjoint(names)
    for module in [CORE, *MODULES.values()]:
        # What a module's services may wait for: the file's, its own, and those of the
        # modules that are on whenever it is.
        known = FILE_SERVICES | declared[module.name]
        known |= {n for other in module.implies for n in declared[other]}
        services = compose_services(module.compose_services)
        app_services = compose_services(module.compose_app_services)
        for name, service in {**services, **app_services}.items():
            assert isinstance(service, dict), name
            assert set(service.get("depends_on", {})) <= known, name
            assert "healthcheck" in service, name
        # Those of the app's image extend x-app; the others run an image of their own.
        assert all(s.get("build") == "." for s in app_services.values()), module.name
        assert all("image" in s and "build" not in s for s in services.values()), module.name
