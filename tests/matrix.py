"""The option space of copier.yml: the matrix of combinations the template is tested over.

It is derived from copier.yml and the module registry alone, so that a new question or a
new module joins the matrix without a change to the tests:

- a boolean question that switches a registry module on is a *toggle*, and every
  combination of the toggles is a row;
- a question with `choices` (the Python version, say) is a *neutral* option: it changes
  no code path, so it is not multiplied out. Each row gets a value of it instead, chosen
  so that every pair of values of any two options appears together in some row;
- a combination the registry declares impossible (`requires`, `conflicts`) is *refused*:
  rendering it must fail with the registry's message, and it gets no row.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from context import combination_errors
from registry import Module

REPO_ROOT = Path(__file__).resolve().parents[1]

Pair = tuple[tuple[str, Any], tuple[str, Any]]


@dataclass(frozen=True)
class Combination:
    """One set of answers: a toggle per module question, a value per neutral option."""

    answers: Mapping[str, Any]
    modules: tuple[str, ...]  # the modules answered yes, in registry order
    neutral: tuple[Any, ...] = ()  # the values of the neutral options
    errors: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """`auth+cache@3.12`: the modules on (or `bare`), then the neutral values."""
        return ("+".join(self.modules) or "bare") + "".join(f"@{v}" for v in self.neutral)


@dataclass(frozen=True)
class Matrix:
    toggles: dict[str, str]  # question -> module
    neutral: dict[str, tuple[Any, ...]]  # question -> its choices
    rows: tuple[Combination, ...]
    refused: tuple[Combination, ...]

    def row(self, name: str) -> Combination:
        return next(r for r in self.rows if r.name == name)

    def uncovered_pairs(self) -> set[Pair]:
        """Pairs of option values that valid answers can hold but that no row holds."""
        return _wanted_pairs(self.rows, self.neutral) - _covered_pairs(self.rows)


def load(root: Path = REPO_ROOT) -> Matrix:
    """The matrix of the template at `root`, with the registry that template holds."""
    questions = yaml.safe_load((root / "copier.yml").read_text(encoding="utf-8"))
    registry = _load_registry(root / "extensions" / "registry.py")
    return build(questions, registry.MODULES)


def build(questions: Mapping[str, Any], modules: Mapping[str, Module]) -> Matrix:
    by_question = {m.question: m.name for m in modules.values() if m.question}
    toggles = {
        name: by_question[name]
        for name, spec in questions.items()
        if isinstance(spec, dict) and spec.get("type") == "bool" and name in by_question
    }
    neutral = {
        name: tuple(_choices(spec["choices"]))
        for name, spec in questions.items()
        if isinstance(spec, dict) and "choices" in spec
    }
    valid, refused = [], []
    for values in itertools.product((False, True), repeat=len(toggles)):
        answers = dict(zip(toggles, values, strict=True))
        on = tuple(m.name for m in modules.values() if m.question and answers.get(m.question))
        errors = tuple(combination_errors(answers, modules))
        if errors:
            refused.append(Combination(answers, on, errors=errors))
        else:
            valid.append(Combination(answers, on))
    rows = _cover_pairs(valid, neutral)
    return Matrix(toggles, neutral, tuple(rows), tuple(refused))


def _cover_pairs(
    valid: list[Combination], neutral: Mapping[str, tuple[Any, ...]]
) -> list[Combination]:
    """Give each valid combination neutral values, greedily covering new pairs first and
    spreading the values evenly after that; add rows while a pair is still never seen."""
    choices = _neutral_choices(neutral)
    wanted = _wanted_pairs(valid, neutral)
    covered: set[Pair] = set()
    rows: list[Combination] = []

    def gain(combination: Combination, values: dict[str, Any]) -> tuple[int, int]:
        uses = sum(row.answers[k] == v for row in rows for k, v in values.items())
        return len(_pairs({**combination.answers, **values}) - covered), -uses

    def add(combination: Combination, values: dict[str, Any]) -> None:
        answers = {**combination.answers, **values}
        covered.update(_pairs(answers))
        rows.append(Combination(answers, combination.modules, tuple(values.values())))

    for combination in valid:
        add(combination, max(choices, key=lambda values: gain(combination, values)))
    while wanted - covered:
        add(*max(itertools.product(valid, choices), key=lambda cv: gain(*cv)))
    return rows


def _neutral_choices(neutral: Mapping[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(neutral, v, strict=True)) for v in itertools.product(*neutral.values())]


def _wanted_pairs(
    combinations: Iterable[Combination], neutral: Mapping[str, tuple[Any, ...]]
) -> set[Pair]:
    """Every pair of values that some valid combination can hold together."""
    return {
        pair
        for combination in combinations
        for values in _neutral_choices(neutral)
        for pair in _pairs({**combination.answers, **values})
    }


def _covered_pairs(rows: Iterable[Combination]) -> set[Pair]:
    return {pair for row in rows for pair in _pairs(row.answers)}


def _pairs(answers: Mapping[str, Any]) -> set[Pair]:
    return set(itertools.combinations(sorted(answers.items(), key=lambda kv: kv[0]), 2))


def _choices(spec: list[Any] | dict[str, Any]) -> list[Any]:
    # Copier takes choices as a list of values or as a mapping of labels to values.
    return list(spec.values()) if isinstance(spec, dict) else list(spec)


def _load_registry(path: Path) -> ModuleType:
    """The registry module of a template, even of a copy of this one."""
    if path == REPO_ROOT / "extensions" / "registry.py":
        import registry

        return registry
    name = f"registry_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up by name while they are being created.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
