"""Promises the repository makes about itself."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

from package_managers import DEFAULT, MANAGERS

from tests import pythons
from tests.conftest import REPO_ROOT, Project


def readme_commands() -> list[str]:
    head = (REPO_ROOT / "README.md").read_text(encoding="utf-8").split("\n## ")[0]
    return re.findall(r"```(?:sh|bash)\n(.*?)\n```", head, re.DOTALL)


def test_readme_opens_with_the_render_and_the_test_command() -> None:
    render, test = readme_commands()[:2]

    assert "copier copy" in render
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test = readme_commands()[1]

    assert test in (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")


# Run inside an environment: which of the requirements in argv it does not satisfy.
UNMET = """
import json, sys
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement
unmet = []
for line in sys.argv[1:]:
    requirement = Requirement(line)
    try:
        installed = version(requirement.name)
    except PackageNotFoundError:
        unmet.append(f"{line} (not installed)")
        continue
    if not requirement.specifier.contains(installed, prereleases=True):
        unmet.append(f"{line} (installed {installed})")
print(json.dumps(unmet))
"""


def unmet(python: str, requirements: list[str]) -> list[str]:
    result = subprocess.run(
        [python, "-c", UNMET, *requirements], capture_output=True, text=True, check=True
    )
    missing: list[str] = json.loads(result.stdout)
    return missing


def test_the_test_environments_satisfy_the_rendered_projects(default_project: Project) -> None:
    """Projects are checked with these environments' tools, so they must fit them."""
    pyproject = tomllib.loads(default_project.read("pyproject.toml"))
    declared = [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]

    assert set(declared) <= set(pythons.requirements())
    # The harness's environment serves the projects on its own Python version.
    assert unmet(sys.executable, pythons.requirements()) == []
    assert unmet(default_project.interpreter, declared) == []


def test_docs_describe_both_layouts() -> None:
    docs = {p.name for p in (REPO_ROOT / "docs").glob("*.md")}

    assert {"template.md", "generated-service.md"} <= docs


def test_generated_readme_documents_the_everyday_commands(default_project: Project) -> None:
    readme = default_project.read("README.md")

    for command in (
        "make up",
        "make install",
        "make test",
        "make cov",
        "make clean",
        "make migrate",
        "copier update",
    ):
        assert command in readme, command


def test_template_code_is_lint_clean() -> None:
    for command in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "extensions", "tests", "bench"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout


def test_generated_projects_get_the_copier_the_template_renders_with(
    default_project: Project,
) -> None:
    """`.venv/bin/copier update` in a project runs what rendered it, pinned in one place."""
    template = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    render = template["dependency-groups"]["render"]
    project = tomllib.loads(default_project.read("pyproject.toml"))

    managers = {m.requirement for m in MANAGERS.values()}
    tools = {"copier", "copier-template-extensions", *(m.tool for m in MANAGERS.values())}
    assert {r.split("==")[0] for r in render} == tools
    assert all(r.count("==") == 1 for r in render)
    # The tools of every package manager, as pinned for them: the copy task locks with them.
    assert managers <= set(render)
    dev = set(project["dependency-groups"]["dev"])
    assert set(render) - managers <= dev
    assert set(render) & dev & managers == {MANAGERS[DEFAULT].requirement}
    assert unmet(sys.executable, render) == []
