"""Shared pieces of the source mappers: results, errors, canonical item construction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from prometeo.contracts.envelope import EventPayload


@dataclass(frozen=True)
class ItemError:
    """One source record that could not be mapped; `reason` carries field paths, never field values.
    `unsupported`: well-formed and known to the standard, but deliberately not recorded (not `invalid`)."""

    reason: str
    unsupported: bool = False


@dataclass
class Mapped:
    customer_id: str
    items: list[dict[str, Any] | ItemError] = field(default_factory=list)


class DocumentError(ValueError):
    """The whole document is unusable (wrong shape, missing customer): answered 422 with field paths."""

    def __init__(self, field_path: str, message: str) -> None:
        super().__init__(f"{field_path}: {message}")
        self.field = field_path
        self.message = message


class SourceModel(BaseModel):
    # Unknown fields (names, CPF/CNPJ of counterparties, free text) are dropped here, at the edge.
    # Text is trimmed: a trailing space in an enum value must not change what a record means.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)


def _strict_decimal(value: Any) -> Any:
    """Decimal strings or JSON numbers (parsed as Decimal upstream); never floats, never '1.234,56'."""
    if isinstance(value, float):
        raise ValueError("amount must be a decimal string, not a binary float")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError("not a decimal number (expected e.g. '1428.7500')") from None
        if not parsed.is_finite():
            raise ValueError("not a finite decimal number")
        return parsed
    raise ValueError("amount must be a decimal string")


Amount = Annotated[Decimal, BeforeValidator(_strict_decimal)]

_LOOSE_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(T.*)?$", re.ASCII)


def _padded(value: Any) -> Any:
    """The Brasil specs' date patterns allow unpadded months and days (`(1[0-2]|0?[1-9])`): `2022-4-5`."""
    if isinstance(value, str) and (match := _LOOSE_DATE.match(value.strip())):
        year, month, day, rest = match.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}{rest or ''}"
    return value


SourceDate = Annotated[date, BeforeValidator(_padded)]
SourceDateTime = Annotated[datetime, BeforeValidator(_padded)]


def field_errors(exc: ValidationError, prefix: str) -> str:
    """Field paths and messages only: values (which may be personal data) are never echoed."""
    parts = []
    for e in exc.errors()[:5]:
        path = (prefix + ".".join(str(p) for p in e["loc"])).rstrip(".") or "body"
        parts.append(f"{path}: {e['msg']}")
    return "; ".join(parts)


def as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def canonical(
    customer_id: str, source: str, source_event_id: str, payload: EventPayload, occurred_at: datetime
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "source_event_id": source_event_id,
        "type": payload.event_type,
        "version": 1,
        "occurred_at": occurred_at.isoformat(),
        "source": source,
        "payload": payload.model_dump(mode="json", exclude_none=True),
    }


def records(document: Any, path: tuple[str, ...]) -> list[Any]:
    """The list of records at `path` (a single object counts as one record)."""
    node: Any = document
    walked: list[str] = []
    for key in path:
        walked.append(key)
        if not isinstance(node, dict) or key not in node:
            raise DocumentError(".".join(walked), "required")
        node = node[key]
    if isinstance(node, dict):
        return [node]
    if isinstance(node, list):
        return node
    raise DocumentError(".".join(path), "must be an object or an array")
