"""Where each module shows up in the template, against what the registry declares.

A module owns the files its `files` patterns match (gitwildmatch, relative to the project
root) and changes the shared files listed in its `touches` (template paths, relative to
`template/`). Anywhere else, a template must not mention it: `footprint_errors` lists each
mention of a module in a file that is neither, each `touches` entry naming a file that
does not mention the module, and each mention of a module the registry does not have.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pathspec
from packaging.version import Version
from registry import Module

# As Copier matches `_exclude` (which the `files` patterns become): gitwildmatch, called
# "gitignore" from pathspec 1.0 on.
PATTERN_STYLE = "gitignore" if Version(pathspec.__version__) >= Version("1.0.0") else "gitwildmatch"
# Jinja's statements and expressions; a mention outside them is text, not a test.
JINJA_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.DOTALL)
# `"auth" in modules`, `'auth' not in modules`, as an `if`, a `set` or an expression.
MENTION = re.compile(r"""(["'])(\w+)\1\s+(?:not\s+)?in\s+modules\b""")


def project_path(template_path: str) -> str:
    """The path a template file renders to, relative to the project root."""
    return template_path.removesuffix(".jinja")


def mentions(template_root: Path) -> dict[str, set[str]]:
    """Template path (relative to `template_root`, with `/`) to the modules it mentions."""
    found: dict[str, set[str]] = {}
    for path in sorted(template_root.rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        names = {
            match.group(2) for tag in JINJA_TAG.findall(text) for match in MENTION.finditer(tag)
        }
        if names:
            found[path.relative_to(template_root).as_posix()] = names
    return found


def owns(module: Module, template_path: str) -> bool:
    """Whether the module's `files` patterns match the file the template renders to."""
    spec = pathspec.PathSpec.from_lines(PATTERN_STYLE, module.owned)
    return spec.match_file(project_path(template_path))


def footprint_errors(template_root: Path, modules: Mapping[str, Module]) -> list[str]:
    """Every disagreement between the template's mentions of modules and the registry."""
    found = mentions(template_root)
    errors = []
    for template_path, names in found.items():
        for name in sorted(names):
            module = modules.get(name)
            if module is None:
                errors.append(f"{template_path}: mentions {name!r}, which is not a module")
            elif not owns(module, template_path) and template_path not in module.touches:
                errors.append(
                    f"{template_path}: mentions {name!r}, but the file is neither among"
                    f" {name}'s files nor in {name}'s touches"
                )
    for module in modules.values():
        for template_path in module.touches:
            if module.name not in found.get(template_path, set()):
                errors.append(
                    f"{template_path}: in {module.name}'s touches, but the file does not"
                    f" mention {module.name!r}"
                )
    return errors
