"""The traces of a module, derived from its registry entry, on lines such as a render holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from context import compose_services
from registry import MODULES, Module

from tests.footprint import owns, project_path
from tests.traces import path_words, trace_pattern

TEMPLATE = Path(__file__).resolve().parents[2] / "template"


def planted(module: Module) -> list[str]:
    """A line for each kind of name the entry declares, as a file of the render writes it."""
    lines = [
        f"from {m.rsplit('.', 1)[0]} import {m.rsplit('.', 1)[1]}" for m in module.task_modules
    ]
    if module.package:
        lines.append(f"from {module.package} import something")
    lines += [f"from {r.module} import router" for r in module.routers]
    lines += [f"{s.env}=1" for s in module.settings]
    lines += [f'    "{d}",' for d in (*module.dependencies, *module.dev_dependencies)]
    lines += [f"class {path.partition(':')[2]}(Base):" for path in module.models]
    lines += [f"    state.{h.field} = {h.provides.partition(':')[2]}()" for h in module.lifespan]
    services = (module.compose_services, module.compose_app_services)
    lines += [f"  {name}:" for text in services for name in compose_services(text)]
    lines += [f"{t.name}: ## {t.help}" for t in module.make_targets]
    lines += [
        f"def test(x: {alias.partition(':')[2]}) -> None:" for alias in module.item_writes.values()
    ]
    return lines


@pytest.mark.parametrize("name", MODULES)
def test_every_name_a_module_declares_is_a_trace_of_it(name: str) -> None:
    module = MODULES[name]
    pattern = trace_pattern(module)
    lines = planted(module)

    assert lines
    assert [line for line in lines if not pattern.search(line)] == []


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("auth", "    owner_id: int | None"),
        ("auth", "user: CurrentUser"),
        ("auth", "TOKEN=$(curl -X POST localhost:8000/api/v1/auth/token)"),
        ("cache", "@cached(ttl=60)"),
        ("rate_limit", "### Rate limiting"),
        ("celery", "@async_task(bind=True)"),
        ("mail", "Mail goes out over SMTP after the response."),
    ],
)
def test_a_marked_word_is_a_trace(name: str, line: str) -> None:
    assert trace_pattern(MODULES[name]).search(line)


@pytest.mark.parametrize(
    "line",
    [
        'authors = [{ name = "Your Team", email = "team@example.com" }]',
        "# Runtime stage: no compilers, no pip cache, a non-root user.",
        '    """Nothing is cached, so nothing goes stale."""',
        "# with WEB_CONCURRENCY, every worker imports it",
        "Swagger UI's oauth2-redirect page",
        "a 503 with Retry-After",
    ],
)
def test_words_every_service_has_are_no_module_s_trace(line: str) -> None:
    assert [name for name, m in MODULES.items() if trace_pattern(m).search(line)] == []


def test_no_template_every_render_holds_as_is_has_a_trace() -> None:
    """Files no module owns, touches or renders into: what a render with every module off
    holds word for word."""
    shared = [
        path
        for path in sorted(TEMPLATE.rglob("*"))
        if path.is_file()
        and path.suffix != ".jinja"
        and "__pycache__" not in path.parts
        and not any(owns(m, path.relative_to(TEMPLATE).as_posix()) for m in MODULES.values())
    ]
    traces = [
        f"{project_path(path.relative_to(TEMPLATE).as_posix())}:{n}: {name}"
        for path in shared
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        for name, module in MODULES.items()
        if trace_pattern(module).search(line)
    ]
    words = {w for m in MODULES.values() for w in path_words(m)}
    named = [
        str(path.relative_to(TEMPLATE))
        for path in shared
        if any(w in path.relative_to(TEMPLATE).as_posix() for w in words)
    ]

    assert len(shared) > 20
    assert traces == []
    assert named == []
