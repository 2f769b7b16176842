"""Reading plan form fields: trimmed text, dates, numbers and choices, with messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

MAX_TEXT = 2000
MAX_LONG_TEXT = 10000


class PlanFormError(ValueError):
    """Form input that cannot be saved; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


def text(
    form: Mapping[str, str],
    name: str,
    errors: dict,
    *,
    required: bool = False,
    limit: int = MAX_TEXT,
) -> str:
    value = (form.get(name) or "").strip()
    if required and not value:
        errors[name] = "This field is required."
    elif len(value) > limit:
        errors[name] = f"Keep this under {limit} characters."
    return value


def iso_date(form: Mapping[str, str], name: str, errors: dict) -> date | None:
    value = (form.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None


def number(form: Mapping[str, str], name: str, errors: dict) -> float | None:
    value = (form.get(name) or "").strip().replace(",", ".")
    if not value:
        return None
    try:
        result = float(value)
    except ValueError:
        errors[name] = "Enter a number, such as 12 or 3.5."
        return None
    if result != result or abs(result) > 1e12:
        errors[name] = "Enter a number, such as 12 or 3.5."
        return None
    return result


def percent(form: Mapping[str, str], name: str, errors: dict) -> int | None:
    value = (form.get(name) or "").strip().rstrip("%")
    if not value:
        return None
    try:
        result = int(value)
    except ValueError:
        errors[name] = "Enter progress as a whole number from 0 to 100."
        return None
    if not 0 <= result <= 100:
        errors[name] = "Enter progress as a whole number from 0 to 100."
        return None
    return result


def choice(
    form: Mapping[str, str],
    name: str,
    allowed: Iterable[str],
    errors: dict,
    default: str | None = None,
) -> str:
    allowed = list(allowed)
    value = (form.get(name) or "").strip() or default
    if value not in allowed:
        errors[name] = "Choose one of the options in the list."
        return allowed[0] if allowed else ""
    return value
