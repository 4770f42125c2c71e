"""Reading bundle JSON: the format's name, its errors, and typed reads that name paths.

`Checker` reads one value at a time from the parsed document and records, rather
than raises, what is wrong with it, so one pass reports every problem in a file.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

from django.db.models import Model, TextChoices
from django.utils import timezone

FORMAT = "failwell.bundle/1"

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BundleError(Exception):
    """A bundle that cannot be imported, with every problem found, each with its path."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def parse_json(text: str) -> Any:
    """The JSON document, or BundleError saying where the syntax breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BundleError(
            [f"not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}"]
        ) from None


def at(path: str, key: str) -> str:
    """The JSON path of a key inside the object at `path` ("" or "$" is the top)."""
    return key if path in ("", "$") else f"{path}.{key}"


def max_length(model: type[Model], name: str) -> int | None:
    return model._meta.get_field(name).max_length


def one_of(values) -> str:
    return ", ".join(values)


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false"}.get(
        type(value), "a number"
    )


class Checker:
    """Typed reads from the parsed JSON that record, rather than raise, each failure."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def object(self, value: Any, path: str, allowed: set[str], required=()) -> dict | None:
        if not isinstance(value, dict):
            self.error(path, f"expected an object, got {kind_of(value)}")
            return None
        for key in sorted(set(value) - allowed):
            self.error(at(path, key), f"unknown key (allowed: {one_of(sorted(allowed))})")
        for key in required:
            if value.get(key) is None:
                self.error(at(path, key), "is required")
        return value

    def items(self, obj: dict, key: str, path: str) -> list[tuple[str, Any]]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(at(path, key), f"expected a list, got {kind_of(value)}")
            return []
        return [(f"{at(path, key)}[{index}]", item) for index, item in enumerate(value)]

    def text(
        self, obj: dict, key: str, path: str, *, limit: int | None = None, blank: bool = True
    ) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(at(path, key), f"expected a string, got {kind_of(value)}")
            return None
        value = value.strip()
        if not value and not blank:
            self.error(at(path, key), "must not be blank")
            return None
        if limit is not None and len(value) > limit:
            self.error(at(path, key), f"is {len(value)} characters long; at most {limit}")
            return None
        return value

    def slug(self, obj: dict, key: str, path: str, limit: int | None = None) -> str | None:
        value = self.text(obj, key, path, limit=limit, blank=False)
        if value is not None and not SLUG_RE.match(value):
            self.error(
                at(path, key),
                f'"{value}" is not a slug (lower-case letters, digits and hyphens)',
            )
            return None
        return value

    def date(self, obj: dict, key: str, path: str) -> datetime.date | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, str) and DATE_RE.match(value):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        self.error(at(path, key), f"{json.dumps(value)} is not a date (yyyy-mm-dd)")
        return None

    def moment(self, obj: dict, key: str, path: str) -> datetime.datetime | None:
        value = obj.get(key)
        if isinstance(value, str):
            try:
                moment = datetime.datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                if timezone.is_naive(moment):
                    moment = timezone.make_aware(moment)
                return moment
        self.error(at(path, key), f"{json.dumps(value)} is not a date and time (ISO 8601)")
        return None

    def choice(
        self, obj: dict, key: str, path: str, choices: type[TextChoices], noun: str
    ) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if value not in choices.values:
            self.error(
                at(path, key),
                f"{json.dumps(value)} is not {noun} (one of: {one_of(choices.values)})",
            )
            return None
        return value

    def number(self, obj: dict, key: str, path: str) -> float | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.error(at(path, key), f"expected a number, got {kind_of(value)}")
            return None
        if not math.isfinite(value):
            self.error(at(path, key), "must be a finite number")
            return None
        return float(value)

    def whole(self, obj: dict, key: str, path: str, *, most: int = 32767) -> int | None:
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
            self.error(at(path, key), f"expected a whole number from 0 to {most}")
            return None
        return value

    def boolean(self, obj: dict, key: str, path: str) -> bool | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.error(at(path, key), f"expected true or false, got {kind_of(value)}")
            return None
        return value

    def given(self, obj: dict, values: dict[str, Any], key: str, value: Any, empty: Any = None):
        """Record a field the bundle gives (null included), so absent keys stay untouched."""
        if key in obj:
            values[key] = empty if value is None else value
