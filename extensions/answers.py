"""How copier.yml's answers are refused: by the template's own one-line message.

Copier casts a yes/no answer given with `--data` generously (`flase` is a non-empty string,
so yes) before any validator sees it, and its command line prints an answer that fails
validation as a traceback with the validator's message at the end. `Answers` gives the
validators the answer as typed, and makes the refusal the one line Copier prints for its
own errors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from copier import errors
from copier._user_data import Question
from jinja2 import Environment, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

# What Copier documents for a boolean answer: YAML's booleans and 1/0, in any case.
YES = frozenset({"y", "yes", "true", "on", "1"})
NO = frozenset({"n", "no", "false", "off", "0"})


class AnswerRefused(errors.UserMessageError, ValueError):
    """A bad answer. A ValueError still, as Copier's own validation errors are."""


def yes_no_error(name: str, typed: Mapping[str, Any]) -> str:
    """Why the answer to yes/no question `name` in `typed` (the `--data` answers, as
    typed) is not one; empty when it is, or when it was not typed there."""
    if name not in typed:
        return ""
    value = typed[name]
    if isinstance(value, bool) or str(value).strip().lower() in YES | NO:
        return ""
    return f"{name} must be true or false (yes/no, on/off, 1/0), got '{value}'."


@pass_context
def _yes_no_error(context: Context, name: str) -> str:
    return yes_no_error(name, context["_copier_conf"]["data"])


def _refusing_in_one_line(check: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(check)
    def check_or_refuse(question: Question, answer: Any) -> Any:
        try:
            return check(question, answer)
        except AnswerRefused:
            raise
        except ValueError as error:
            raise AnswerRefused(str(error)) from None

    check_or_refuse.refuses_in_one_line = True  # type: ignore[attr-defined]
    return check_or_refuse


class Answers(Extension):
    """Adds `yes_no_error(name)` for validators; makes refusals one line."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["yes_no_error"] = _yes_no_error
        # Copier checks each answer with these two: a ValueError from either is a refused
        # answer (a value not of its type, or a validator's message). Copier catches it
        # where it asks interactively, and lets it end the program for `--data`.
        for name in ("parse_answer", "validate_answer"):
            check = getattr(Question, name)
            if not getattr(check, "refuses_in_one_line", False):
                setattr(Question, name, _refusing_in_one_line(check))
