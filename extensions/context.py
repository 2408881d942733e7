"""Jinja extensions that derive the render context from the answers and the registry.

Copier loads `ContextUpdater` by file path (see `_jinja_extensions` in copier.yml). The
functions above it are pure so that `tests/unit` can exercise them without rendering.
"""

from __future__ import annotations

import json
import re
import secrets as _secrets
import sys
import textwrap
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from copier_template_extensions import ContextHook
from jinja2 import Environment
from jinja2.ext import Extension

# Copier imports this file by path, not as part of a package, so the modules beside it are
# imported by name. `copier update` renders two versions of the template in one process
# (the project's and the new one): a `registry` imported for the other version must not
# stand in for this version's.
_HERE = Path(__file__).resolve().parent
for _name in ("registry", "package_managers", "servers"):
    _imported = sys.modules.get(_name)
    if _imported is not None and Path(_imported.__file__ or "").resolve().parent != _HERE:
        del sys.modules[_name]
sys.path.insert(0, str(_HERE))

from package_managers import DEFAULT, MANAGERS, PackageManager  # noqa: E402
from registry import CORE, MODULES, Module, RouteAdditions, Setting, python_string  # noqa: E402
from servers import DEFAULT as DEFAULT_SERVER  # noqa: E402
from servers import SERVERS, WebServer  # noqa: E402

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
FALLBACK_SLUG = "service"


def slugify(text: str) -> str:
    """Turn any human project name into a distribution name: `Café Orders!` -> `cafe-orders`.

    Accents are folded to ASCII; a name with no Latin letters at all (e.g. Cyrillic) falls
    back to `service` so that the default stays valid and the user can type a better one.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = re.sub(r"^[0-9-]+", "", slug)
    return slug or FALLBACK_SLUG


def generate_secrets(names: Iterable[str]) -> dict[str, str]:
    """Fresh random secrets, URL-safe so that they can sit inside a database URL."""
    return {name: _secrets.token_urlsafe(32) for name in names}


def answered_yes(value: object) -> bool:
    """A yes/no answer as Copier will cast it. While questions are validated, answers given
    with `--data` are still the strings typed on the command line: "false" must be no."""
    if not isinstance(value, str):
        return bool(value)
    text = value.strip().lower()
    try:
        return float(text) != 0
    except ValueError:
        return text in {"y", "yes", "t", "true", "on"}


def enabled_modules(answers: Mapping[str, Any], modules: Mapping[str, Module]) -> list[Module]:
    """The core, then every module answered yes or implied by one, in registry order."""
    on = {m.name for m in modules.values() if m.question and answered_yes(answers.get(m.question))}
    pending = list(on)
    while pending:
        for implied in modules[pending.pop()].implies:
            if implied not in on:
                on.add(implied)
                pending.append(implied)
    return [CORE, *(m for m in modules.values() if m.name in on)]


def excluded_paths(answers: Mapping[str, Any], modules: Mapping[str, Module]) -> str:
    """The file patterns of the modules that are off, one per line for `_exclude`."""
    return "\n".join(off_patterns(answers, modules))


def off_patterns(answers: Mapping[str, Any], modules: Mapping[str, Module]) -> list[str]:
    """The files of the modules that are off, and those a module that is on has only
    together with one that is off (`files_with`)."""
    on = {m.name for m in enabled_modules(answers, modules)}
    patterns: list[str] = []
    for module in modules.values():
        if module.name not in on:
            patterns += module.owned
        else:
            for other, files in module.files_with.items():
                if other not in on:
                    patterns += files
    return patterns


def _import(path: str) -> dict[str, str]:
    module, _, name = path.partition(":")
    return {"module": module, "name": name}


def import_lines(paths: Iterable[str]) -> list[str]:
    """`module:NAME` paths as the import statements ruff would write: one per module, the
    modules and names sorted (constants, then classes, then functions, as isort orders)."""
    names: dict[str, set[str]] = {}
    for path in paths:
        module, _, name = path.partition(":")
        names.setdefault(module, set()).add(name)
    return [
        f"from {module} import {', '.join(sorted(names[module], key=_isort_key))}"
        for module in sorted(names)
    ]


def _isort_key(name: str) -> tuple[int, str]:
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


def merged_dicts(names: list[str]) -> str:
    """Python source for the union of the dicts `names`: the one name alone, or `{**a, **b}`."""
    return names[0] if len(names) == 1 else "{" + ", ".join(f"**{n}" for n in names) + "}"


def route_additions(chosen: Iterable[Module]) -> dict[str, dict[str, Any]]:
    """Per router module, what the chosen modules add to each of its routes: the imports
    it needs, and the names of the responses and the dependencies."""
    chosen = list(chosen)
    routers = {r.module for m in chosen for r in m.routers}
    wiring: dict[str, dict[str, Any]] = {}
    for router in sorted(routers):
        parts = [m.routes.get(router, RouteAdditions()) for m in chosen]
        responses = [p for part in parts for p in part.responses]
        dependencies = [p for part in parts for p in part.dependencies]
        imports = [p for part in parts for p in part.imports]
        wiring[router] = {
            "imports": import_lines([*responses, *dependencies, *imports]),
            "responses": [p.partition(":")[2] for p in responses],
            "dependencies": [p.partition(":")[2] for p in dependencies],
        }
    return wiring


def item_writes(chosen: Iterable[Module]) -> dict[str, Any]:
    """What the chosen modules give the item service of the writes: the imports of their
    dependencies and, per keyword argument, the dependency's alias."""
    parts = {name: path for m in chosen for name, path in m.item_writes.items()}
    return {
        "imports": import_lines(parts.values()),
        "arguments": {name: path.partition(":")[2] for name, path in parts.items()},
    }


def test_plugins(answers: Mapping[str, Any], modules: Mapping[str, Module]) -> list[str]:
    """The pytest plugins of the chosen modules, but for those a module that is off owns."""
    off_files = set(off_patterns(answers, modules))
    return [
        plugin
        for m in enabled_modules(answers, modules)
        for plugin in m.test_plugins
        if plugin.replace(".", "/") + ".py" not in off_files
    ]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class _Pending(dict[str, Any]):
    """Answers so far. Copier also runs the hook while it is still asking questions, when
    later answers do not exist yet; they format as empty until they do."""

    def __missing__(self, key: str) -> str:
        return ""


# Characters a double-quoted value may not hold: escapes and expansions, which a shell,
# python-dotenv and compose each read their own way.
_DOUBLE_QUOTE_SPECIAL = frozenset('"$`\\')


def env_quoted(value: str) -> str | None:
    """A `.env` value that a POSIX shell (`set -a; . ./.env`), python-dotenv (which
    pydantic-settings uses) and compose all read as `value`: single quotes, which none of
    them expands, or double quotes for a value that holds a single quote and nothing any of
    them would expand or unescape. None when there is no such value: the answers that reach
    `.env` are validated so that it never happens."""
    if "'" not in value and "\\" not in value:
        return f"'{value}'"
    if _DOUBLE_QUOTE_SPECIAL.isdisjoint(value):
        return f'"{value}"'
    return None


def _env_line(setting: Setting, template: str, values: Mapping[str, Any]) -> dict[str, Any]:
    value = template.format_map(values)
    quoted_value = env_quoted(value)
    return {
        "name": setting.env,
        "value": value,
        "line": None if quoted_value is None else f"{setting.env}={quoted_value}",
        "doc": setting.doc,
        "per_project": setting.local is not None,
    }


def compose_environment(
    chosen: Iterable[Module], containers: str, values: Mapping[str, Any]
) -> dict[str, str | None]:
    """What compose gives the containers of the app's image that `containers` names: each
    setting they read, with its compose value, or None (passed from .env when set there)."""
    chosen = list(chosen)
    given = {k: v.format_map(values) for m in chosen for k, v in m.compose_env.items()}
    return {
        s.env: given.get(s.env)
        for m in chosen
        for s in m.settings
        if s.app and s.compose == containers
    }


def compose_yaml(text: str) -> str:
    """A module's compose services as YAML at the left margin, without the blank lines
    around it; the compose file indents it under `services:`."""
    return textwrap.dedent(text).strip("\n")


def compose_services(text: str) -> dict[str, Any]:
    """The services a module's compose YAML declares, as compose reads them. `*app`, which
    the services of the app's image extend, stands here for the file's `x-app` by its
    `build: .`."""
    if not text:
        return {}
    services = textwrap.indent(compose_yaml(text), "  ")
    return dict(yaml.safe_load(f"x-app: &app\n  build: .\nservices:\n{services}\n")["services"])


def package_manager(answers: Mapping[str, Any]) -> PackageManager:
    """The chosen package manager. The default while the questions are still asked, and for
    an answer its validator is about to refuse."""
    return MANAGERS.get(str(answers.get("package_manager") or DEFAULT), MANAGERS[DEFAULT])


def web_server(answers: Mapping[str, Any]) -> WebServer:
    """The chosen web server, or the default, as for the package manager."""
    return SERVERS.get(str(answers.get("server") or DEFAULT_SERVER), SERVERS[DEFAULT_SERVER])


def derive(
    answers: Mapping[str, Any],
    modules: Mapping[str, Module],
    secrets: Mapping[str, str],
) -> dict[str, Any]:
    """Everything the templates need to know about the chosen modules, package manager and
    web server."""
    chosen = enabled_modules(answers, modules)
    manager = package_manager(answers)
    server = web_server(answers)
    settings = [s for m in chosen for s in m.settings]
    values = _Pending(answers, secrets=secrets)
    return {
        "modules": [m.name for m in chosen],
        "dependencies": sorted(
            _unique([*(d for m in chosen for d in m.dependencies), *server.dependencies])
        ),
        # The package manager too, for `copier update`'s lock.
        "dev_dependencies": sorted(
            _unique([*(d for m in chosen for d in m.dev_dependencies), manager.requirement])
        ),
        "manager": manager,
        "web_server": server,
        "app_settings": [
            {
                "name": s.name,
                "annotation": s.annotation,
                "default": None
                if s.default_source is None
                else s.default_source.format_map(values),
                "doc": s.doc,
            }
            for s in settings
            if s.app
        ],
        "env_example": [_env_line(s, s.env_example, values) for s in settings],
        "env_local": [_env_line(s, s.local, values) for s in settings if s.local is not None],
        # What compose needs in .env and no one else may know: throwaway values in CI.
        "secret_settings": [s.env for s in settings if s.secret],
        "routers": [r for m in chosen for r in m.routers],
        "route_additions": route_additions(chosen),
        "item_writes": item_writes(chosen),
        "test_plugins": test_plugins(answers, modules),
        "models": [_import(path) for m in chosen for path in m.models],
        "lifespan_hooks": [h for m in chosen for h in m.lifespan],
        "compose_app_env": compose_environment(chosen, "app", values),
        "compose_migrate_env": compose_environment(chosen, "migrate", values),
        "prestart": [name for m in chosen for name in m.prestart],
        "compose_app_services": [
            compose_yaml(m.compose_app_services) for m in chosen if m.compose_app_services
        ],
        "make_targets": [t for m in chosen for t in m.make_targets],
        "task_modules": [name for m in chosen for name in m.task_modules],
        "side_packages": [m.package for m in chosen if m.package],
        "task_routes": {
            f"{name}.*": m.task_queue for m in chosen if m.task_queue for name in m.task_modules
        },
        "api_depends_on": [name for m in chosen for name in compose_services(m.compose_services)],
        "compose_services": [
            compose_yaml(m.compose_services) for m in chosen if m.compose_services
        ],
        "excluded_paths": excluded_paths(answers, modules),
    }


class ContextUpdater(ContextHook):
    """Adds the derived context to every template Copier renders."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        # One Copier run uses one Jinja environment, so secrets made here are the same in
        # every file of the run and are never part of the answers.
        self._secrets = generate_secrets(n for m in [CORE, *MODULES.values()] for n in m.secrets)

        self._derived: dict[str, dict[str, Any]] = {}

    def hook(self, context: dict[str, Any]) -> None:
        # Copier asks for a context for every file and path it renders, with the same
        # answers for most of them: derive once per set of answers.
        answers = repr(sorted((k, v) for k, v in context.items() if k[0] != "_"))
        if answers not in self._derived:
            self._derived[answers] = derive(context, MODULES, self._secrets)
        context.update(self._derived[answers])


class Filters(Extension):
    """Filters that copier.yml uses before the context hook has anything to work on."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["slugify"] = slugify
        environment.filters["pystr"] = python_string
        environment.filters["quoted"] = quoted
        environment.filters["display_width"] = display_width
        environment.filters["merged_dicts"] = merged_dicts
        environment.tests["matching"] = _matching


def quoted(text: str) -> str:
    """A double-quoted string valid in TOML and YAML alike, non-ASCII kept readable."""
    return json.dumps(text, ensure_ascii=False)


def display_width(text: str) -> int:
    """Columns the text takes in an editor (and for ruff's line length): wide characters,
    such as CJK, count twice."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _matching(value: object, pattern: str) -> bool:
    return re.fullmatch(pattern, str(value)) is not None
