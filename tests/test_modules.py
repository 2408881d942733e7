"""Optional modules: present when on, without a trace when off, in every variant."""

from __future__ import annotations

import tomllib
from collections.abc import Callable

import pytest
from context import enabled_modules
from package_managers import MANAGERS
from registry import MODULES

from tests.conftest import VARIANTS, Project, answers_of, checked_renders
from tests.traces import path_words, trace_pattern


def modules_off(renders: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for render in renders:
        on = {m.name for m in enabled_modules(answers_of(render), MODULES)}
        pairs += [(render, name) for name in MODULES if name not in on]
    return pairs


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    renders = checked_renders(metafunc.config)
    if "module" in metafunc.fixturenames:
        metafunc.parametrize(("render", "module"), modules_off(renders))
    elif "render" in metafunc.fixturenames:
        metafunc.parametrize("render", renders)


def test_every_module_is_off_in_some_variant_and_on_in_another() -> None:
    off = {name for _, name in modules_off(list(VARIANTS))}
    on = {m.name for variant in VARIANTS for m in enabled_modules(answers_of(variant), MODULES)}
    assert set(MODULES) <= off
    assert set(MODULES) <= on


def _without_secrets(filename: str, line: str) -> str:
    # The values in .env are random secrets, in which any word can turn up ("JwT").
    return line.split("=", 1)[0] if filename == ".env" else line


def example_name(line: str) -> str:
    # .env.example comments out the variables that have a default in code.
    return line.removeprefix("# ").split("=")[0]


@pytest.fixture
def rendered(variant: Callable[[str], Project], render: str) -> Project:
    return variant(render)


@pytest.mark.stage("files")
def test_a_module_that_is_off_leaves_no_trace(rendered: Project, module: str) -> None:
    project = rendered
    # The answers file records "with_x: false" on purpose: copier update replays it. The
    # update guide tells how to turn any module on, so it names them all. The lock names
    # what third-party packages depend on (Copier's jinja2, say): pyproject.toml's
    # dependencies, checked below, are what the modules decide.
    skipped = {".copier-answers.yml", "updating.md", *(m.lock_file for m in MANAGERS.values())}
    files = [p for p in project.files() if p.name not in skipped]
    pattern = trace_pattern(MODULES[module])
    remnants = [
        f"{p.relative_to(project.path)}:{n}: {line.strip()}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(_without_secrets(p.name, line))
    ]
    words = path_words(MODULES[module])
    paths = [str(p.relative_to(project.path)) for p in files]

    assert [p for p in paths if any(w in p for w in words)] == []
    assert remnants == []
    dependencies = tomllib.loads(project.read("pyproject.toml"))["project"]["dependencies"]
    assert not set(MODULES[module].dependencies) & set(dependencies)
    env_names = {example_name(line) for line in project.read(".env.example").splitlines()}
    assert not {s.env for s in MODULES[module].settings} & env_names


@pytest.mark.stage("files")
def test_modules_that_are_on_bring_dependencies_and_settings(
    rendered: Project, render: str
) -> None:
    project = rendered
    dependencies = set(tomllib.loads(project.read("pyproject.toml"))["project"]["dependencies"])
    env_names = {example_name(line) for line in project.read(".env.example").splitlines()}

    for module in enabled_modules(answers_of(render), MODULES):
        assert set(module.dependencies) <= dependencies, module.name
        assert {s.env for s in module.settings} <= env_names, module.name


def test_first_admin_command_is_idempotent(default_project: Project) -> None:
    url = default_project.new_database()
    default_project.run("alembic", "upgrade", "heads", database_url=url)

    first = default_project.run("app.auth.bootstrap", database_url=url)
    second = default_project.run("app.auth.bootstrap", database_url=url)

    assert first.stdout.strip().splitlines()[-1] == "created"
    assert second.stdout.strip().splitlines()[-1] == "nothing to do"
