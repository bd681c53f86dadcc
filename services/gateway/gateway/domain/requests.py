"""Data-subject requests as records: what was asked, under which law, when the answer is due, and its
outcome (LGPD art. 19: 15 days; LFPDPPP ARCO: 20 business days; per country in prometeo.privacy).
Pure: no Redis, no FastAPI."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from prometeo.privacy import policy_for


class RequestKind(StrEnum):
    ACCESS = "access"  # access and portability: the whole export
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    OBJECTION = "objection"  # opposition to profiling


class RequestStatus(StrEnum):
    COMPLETED = "completed"
    ACCEPTED = "accepted"  # handed to the platform (erasure, rectification, objection act asynchronously)
    FAILED = "failed"


class DataSubjectRequestRecord(BaseModel):
    """Kept after the customer's erasure: the record that a right was served is itself an obligation.
    It names the pseudonymous key only."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    kind: RequestKind
    customer_key: str
    jurisdiction: str
    law: str
    received_at: datetime
    due_at: datetime
    status: RequestStatus
    outcome: str
    answered_at: datetime
    actor: str
    detail: dict[str, Any] = {}

    @property
    def on_time(self) -> bool:
        return self.answered_at <= self.due_at


def new_request(
    kind: RequestKind,
    customer_key: str,
    jurisdiction: str | None,
    received_at: datetime,
    answered_at: datetime,
    status: RequestStatus,
    outcome: str,
    actor: str,
    detail: dict[str, Any] | None = None,
) -> DataSubjectRequestRecord:
    policy = policy_for(jurisdiction)
    return DataSubjectRequestRecord(
        request_id="dsr_" + uuid.uuid4().hex,
        kind=kind,
        customer_key=customer_key,
        jurisdiction=policy.jurisdiction.value,
        law=policy.law,
        received_at=received_at,
        due_at=policy.request_deadline.due(received_at),
        status=status,
        outcome=outcome,
        answered_at=answered_at,
        actor=actor,
        detail=detail or {},
    )


_LABELS = {
    "pt": {
        "title": "Seus dados na Prometeo",
        "consents": "consentimentos",
        "permissions": "permissões de contato",
        "features": "indicadores calculados",
        "scores": "pontuações de propensão",
        "offers": "ofertas e entregas",
        "reads": "leituras registradas dos seus dados",
        "requests": "pedidos de titular",
        "objected": "Você se opôs à criação de perfil: nenhuma pontuação ou oferta é gerada.",
        "law": "Lei aplicável",
    },
    "es": {
        "title": "Sus datos en Prometeo",
        "consents": "consentimientos",
        "permissions": "permisos de contacto",
        "features": "indicadores calculados",
        "scores": "puntuaciones de propensión",
        "offers": "ofertas y entregas",
        "reads": "lecturas registradas de sus datos",
        "requests": "solicitudes de titular",
        "objected": "Usted se opuso a la elaboración de perfiles: no se generan puntuaciones ni ofertas.",
        "law": "Ley aplicable",
    },
}


def summary(language: str, law: str, counts: dict[str, int], objected: bool) -> str:
    """The readable summary of an export, in the customer's language (pt for Brazil, es elsewhere)."""
    labels = _LABELS.get(language, _LABELS["es"])
    lines = [labels["title"], f"{labels['law']}: {law}"]
    lines += [f"- {labels[name]}: {count}" for name, count in counts.items() if name in labels]
    if objected:
        lines.append(labels["objected"])
    return "\n".join(lines)
