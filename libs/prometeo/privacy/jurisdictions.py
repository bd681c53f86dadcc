"""Rules per jurisdiction (policies.yaml beside this module): what differs by country's law.

Every customer has a jurisdiction (BR, MX, CO, AR, CL), carried by their consent
(`ConsentGrantedV1.jurisdiction`) and profile; an unknown one falls back to BR, the strictest
deadline of the defaults.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Final

import yaml
from pydantic import BaseModel, ConfigDict

from prometeo.contracts import Channel


class Jurisdiction(StrEnum):
    BR = "BR"
    MX = "MX"
    CO = "CO"
    AR = "AR"
    CL = "CL"


DEFAULT_JURISDICTION: Final = Jurisdiction.BR
SENSITIVE_PURPOSE: Final = "sensitive_data"


class Deadline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int
    business_days: bool

    def due(self, received_at: datetime) -> datetime:
        """When an answer to a request received at `received_at` is due (weekends skipped for
        business days; public holidays are the operator's calendar, not modelled here)."""
        if not self.business_days:
            return received_at + timedelta(days=self.days)
        due, left = received_at, self.days
        while left:
            due += timedelta(days=1)
            if due.weekday() < 5:
                left -= 1
        return due


class SensitiveRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed: bool
    requires_purpose: str = SENSITIVE_PURPOSE


class JurisdictionPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    jurisdiction: Jurisdiction
    law: str
    authority: str
    language: str
    request_deadline: Deadline
    contact_registries: dict[Channel, tuple[str, ...]] = {}
    sensitive_data: SensitiveRule
    derived_retention_days: int

    def registries_for(self, channel: Channel) -> tuple[str, ...]:
        """The do-not-contact registries a contact on `channel` must be checked against."""
        return self.contact_registries.get(channel, ())

    @property
    def summary_language(self) -> str:
        """The language of the readable summary of an export: pt or es."""
        return "pt" if self.language.startswith("pt") else "es"


@functools.cache
def policies() -> dict[Jurisdiction, JurisdictionPolicy]:
    raw = yaml.safe_load((Path(__file__).with_name("policies.yaml")).read_text(encoding="utf-8"))
    return {Jurisdiction(code): JurisdictionPolicy(jurisdiction=code, **body) for code, body in raw.items()}


def policy_for(jurisdiction: str | None) -> JurisdictionPolicy:
    try:
        return policies()[Jurisdiction(jurisdiction or DEFAULT_JURISDICTION)]
    except ValueError:
        return policies()[DEFAULT_JURISDICTION]


def sensitive_allowed(jurisdiction: str | None, purposes: frozenset[str]) -> bool:
    """May sensitive categories feed features, reasons, messages or audience rules for this customer?
    Only when the country's rule allows it *and* the customer consented to that purpose explicitly."""
    rule = policy_for(jurisdiction).sensitive_data
    return rule.allowed and rule.requires_purpose in purposes
