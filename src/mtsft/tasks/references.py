"""The shape of each built-in task's `reference`: the fields its verifier reads, with their types.

A task declares its model (`Task.reference_model`); `Task.reference_problem` checks a record against it
before the verifier runs, so a malformed reference (null, a number where a test string goes, a math answer
without `value`) rejects that record with a reason instead of raising out of a whole scoring job. The
models are strict (a number is not a string, a string is not a list) and allow extra fields: records carry
more than a verifier reads.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class Reference(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class AnswerReference(Reference):
    answer: str


class SourcedAnswerReference(AnswerReference):
    source: str = ""


class SummaryReference(AnswerReference):
    source: str


class TranslationReference(SourcedAnswerReference):
    answer_lang: str | None = None


class MathReference(Reference):
    value: int | float | str

    @field_validator("value")
    @classmethod
    def _finite(cls, value):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        if isinstance(value, int) and abs(value) > 2 ** 1023:  # answers are compared as floats
            raise ValueError("is too large to compare as a number")
        return value


class CodeReference(Reference):
    tests: list[str] | str | None = None
    setup: str | None = None
    check: str | None = None
    test: str | None = None
    entry_point: str | None = None

    @model_validator(mode="after")
    def _has_tests(self):
        if not self.tests and not (self.check or self.test):  # nothing to verify: never a free pass
            raise ValueError("no tests (`tests`, or `check` with `entry_point`)")
        return self


class LabelReference(Reference):
    label: str
    labels: list[str] | None = None


class ExtractionReference(Reference):
    # aliases: `json` would shadow BaseModel's own method of that name
    json_value: dict[str, Any] = Field(alias="json")
    field_names: list[str] | None = Field(None, alias="fields")


class ShortAnswerReference(Reference):
    """open_qa and reading comprehension: a short answer, or the accepted answers (SQuAD style)."""
    answer: str | None = None
    short: str | None = None
    answers: list[str] | None = None
    passage: str = ""
    question: str | None = None

    @model_validator(mode="after")
    def _has_answer(self):
        if self.answer is None and (self.short or not self.answers):
            raise ValueError("no `answer` (or `answers`) to compare with")
        return self


class ListReference(Reference):
    answer: str = ""
    n: int | None = None


class ReplyReference(Reference):
    min_len: int
    max_len: int
    answer: str = ""
    keywords: list[str] = []


class WritingReference(ReplyReference):
    form: str
    keywords: list[str]
    lines: int | None = None

    @model_validator(mode="after")
    def _poem_has_lines(self):
        if self.form == "poem" and self.lines is None:
            raise ValueError("a poem needs `lines`")
        return self


def problem(model: type[Reference] | None, reference: Any) -> str | None:
    """Why `reference` does not fit `model` (one line naming the first bad field), or None when it does."""
    if model is None:
        return None
    if not isinstance(reference, dict):
        try:
            model.model_validate({})
        except ValidationError:
            kind = "missing (null)" if reference is None else f"a {type(reference).__name__}, not an object"
            return f"reference is {kind}"
        return None  # a task that can score without one (its fields are all optional)
    try:
        model.model_validate(reference)
    except ValidationError as e:
        return _describe(model, reference, e.errors()[0])
    except (RecursionError, TypeError, ValueError) as e:
        return f"reference cannot be read: {e.__class__.__name__}"
    return None


def _describe(model: type[Reference], reference: dict, error: dict) -> str:
    """One line for pydantic's first error: the field, and what it holds against what the verifier reads
    (pydantic's own location of a union member, like `value.int`, means nothing to the record's author)."""
    if not error["loc"]:  # a check of the whole reference (a model validator)
        return f"reference: {error['msg'].removeprefix('Value error, ')}"
    name = str(error["loc"][0])
    if error["type"] == "missing":
        return f"reference.{name} is missing"
    if error["type"] == "value_error":
        return f"reference.{name}: {error['msg'].removeprefix('Value error, ')}"
    field = next((f for n, f in model.model_fields.items() if name in (n, f.alias)), None)
    annotation = field.annotation if field else None
    expected = (annotation.__name__ if isinstance(annotation, type) else str(annotation).replace("typing.", "")
                if field else "another type")
    held = reference.get(name)
    return f"reference.{name} is {type(held).__name__} {_short(held)}, not {expected}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
