"""The published OpenAPI is the contract: problem+json errors, request bodies read by hand, shared schemas.

`build_app` runs `document_problems` over every service's schema: one `Problem` schema (RFC 9457) in
components; FastAPI's `422 HTTPValidationError` (which our handler never sends) replaced by the problem
body we do send; every declared 4xx/5xx answered as `application/problem+json`; and `4XX`/`5XX`
fallbacks so no error status is undocumented. Routes that read their body by hand (to bound its size,
keep decimals, answer per item) declare it with `openapi_extra=json_body_doc(Model)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from prometeo.web.problems import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
_COMPONENTS = "#/components/schemas/{model}"
# Schemas named by json_body_doc, added to every app's components (harmless where unused).
_EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {}


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending field, e.g. body.events.0.occurred_at")
    message: str
    type: str | None = None


class ProblemPublic(BaseModel):
    """RFC 9457 problem details: every HTTP error of every service has this body."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Per-field errors of a 422")


def problem_content() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}


def problem(description: str) -> dict[str, Any]:
    """One documented error status, for a route's `responses=`: `{404: problem("Customer not found")}`."""
    return {"description": description, "content": problem_content()}


# For `responses=` on routes or routers; build_app adds the ranges to every operation anyway.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": problem("The request was refused (problem details name the reason and the field)"),
    "5XX": problem("A dependency is unavailable (503 with Retry-After) or the service failed"),
}


def _register(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_COMPONENTS)
    for name, definition in schema.pop("$defs", {}).items():
        _EXTRA_SCHEMAS.setdefault(name, definition)
    name = schema.get("title", model.__name__)
    _EXTRA_SCHEMAS.setdefault(name, schema)
    return {"$ref": _COMPONENTS.format(model=name)}


def json_body_doc(
    model: type[BaseModel] | None = None, *, description: str = "", media_type: str = "application/json"
) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its JSON body itself: `model`'s schema (or any JSON object)."""
    schema: dict[str, Any] = _register(model) if model is not None else {"type": "object"}
    body: dict[str, Any] = {"required": True, "content": {media_type: {"schema": schema}}}
    if description:
        body["description"] = description
    return {"requestBody": body}


def header_doc(name: str, description: str, *, required: bool = False, max_length: int = 256) -> dict[str, Any]:
    """A header parameter, for `openapi_extra={"parameters": [...]}` on routes that relay headers."""
    return {
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": max_length},
    }


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemPublic.model_json_schema(ref_template=_COMPONENTS)
    for name, definition in problem_schema.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components["Problem"] = problem_schema
    for name, definition in _EXTRA_SCHEMAS.items():
        components.setdefault(name, definition)
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, response in responses.items():
                # An error without a body of its own (or FastAPI's HTTPValidationError) is a problem.
                if status[:1] in ("4", "5") and (
                    "content" not in response or _refers(response["content"], "HTTPValidationError")
                ):
                    response["content"] = problem_content()
            for status, default in PROBLEM_RESPONSES.items():
                responses.setdefault(str(status), dict(default))
    # FastAPI's validation-error schemas describe a body no service sends.
    if not _refers(schema["paths"], "HTTPValidationError"):
        components.pop("HTTPValidationError", None)
        if not _refers(schema["paths"], "ValidationError") and not _refers(components, "ValidationError"):
            components.pop("ValidationError", None)
    return schema


def _refers(node: Any, name: str) -> bool:
    target = _COMPONENTS.format(model=name)
    if isinstance(node, dict):
        return node.get("$ref") == target or any(_refers(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_refers(v, name) for v in node)
    return False
