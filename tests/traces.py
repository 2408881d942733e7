"""The traces a module leaves in a rendered project, derived from its registry entry.

A module that is off must leave none of them (tests/test_modules.py). They are the names
the entry declares, each in the form it takes in the files: its Python modules (package,
routers, models, hooks, tasks, test plugins, the files it owns) as dotted paths, its
settings in any case, its distributions, its classes and the names it wires in, its
compose services, its Makefile targets, its question, and the `marks` of the entry for
what no other field names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from context import compose_services
from registry import Module

DISTRIBUTION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _word(text: str) -> str:
    """`text` where it is not part of a longer name: `User`, not `UserRead`."""
    start = r"\b" if re.match(r"\w", text) else ""
    end = r"\b" if re.search(r"\w$", text) else ""
    return start + re.escape(text) + end


def _name(name: str) -> str:
    """A Python name; one that is also an English word (`cached`) only where it is used as
    a name: decorating, called or imported."""
    if not re.fullmatch(r"[a-z]+", name):
        return _word(name)
    return rf"@{name}\b|\b{name}\(|import .*\b{name}\b"


def _any_case(text: str) -> str:
    return f"(?i:{_word(text)})"


def _distribution(requirement: str) -> str:
    """A distribution's name as any of its spellings (`email-validator`, `email_validator`)."""
    match = DISTRIBUTION.match(requirement)
    assert match, requirement
    parts = re.split(r"[-_.]+", match.group())
    return "(?i:" + "[-_.]".join(re.escape(p) for p in parts) + ")"


def _last(path: str) -> str:
    """The name of a `module:NAME` path, or the last part of a dotted one."""
    return path.partition(":")[2] or path.rsplit(".", 1)[-1]


def _file_module(pattern: str) -> str | None:
    """The dotted module of a file pattern (`tests/auth_helpers.py` -> `tests.auth_helpers`),
    None for a pattern that is not one Python module or package."""
    if "*" in pattern:
        return None
    path = PurePosixPath(pattern)
    if path.suffix not in {"", ".py"}:
        return None
    return ".".join(path.with_suffix("").parts)


def path_words(module: Module) -> tuple[str, ...]:
    """What the paths of a module's files hold: their stems (`auth_helpers`), the literal
    part of a wildcard one (`test_auth_`), and its package's last name. Not those of its
    `files_with`, which are named for what the other module does with it (`tasks`)."""
    stems = [PurePosixPath(p.split("*", 1)[0]).name.split(".", 1)[0] for p in module.files]
    if module.package:
        stems.append(_last(module.package))
    return tuple(sorted({s for s in stems if s}))


def _alternatives(module: Module) -> Iterable[str]:
    modules = [
        module.package,
        *(r.module for r in module.routers),
        *(path.partition(":")[0] for path in module.models),
        *(h.module for h in module.lifespan),
        *module.task_modules,
        *module.prestart,
        *module.test_plugins,
        *(_file_module(p) for p in module.owned),
    ]
    yield from (_word(m) for m in modules if m)
    yield from (_any_case(s.name) for s in module.settings)
    yield from (_any_case(s) for s in module.secrets)
    yield from (_distribution(d) for d in (*module.dependencies, *module.dev_dependencies))
    names = [
        *module.models,
        *(h.provides for h in module.lifespan),
        *(h.function for h in module.lifespan),
        *(p for r in module.routes.values() for p in (*r.responses, *r.dependencies, *r.imports)),
        *module.item_writes.values(),
    ]
    yield from (_name(_last(n)) for n in names)
    yield from (_any_case(s) for s in compose_services(module.compose_services))
    # The app's own containers are named for their role ("worker"), a word in prose too:
    # their trace is the compose key.
    yield from (rf"^\s*{re.escape(s)}:" for s in compose_services(module.compose_app_services))
    for target in module.make_targets:
        yield f"^{re.escape(target.name)}:|make {_word(target.name)}"
    if module.question:
        yield _word(module.question)
    yield from module.marks


def trace_pattern(module: Module) -> re.Pattern[str]:
    """One line of a file that holds any trace of the module matches it."""
    return re.compile("|".join(sorted(set(_alternatives(module)))))
