"""A customer's walk through a campaign sequence, as a pure state machine.

Events are outcomes (opened, clicked, accepted…) and timers (a step's wait ended). Each transition
returns the new state and the actions for the caller to carry out (run a step, arm a timer). Timers
carry the step number they were armed in, so a stale timer (the customer moved on) does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from campaigns.domain.campaign import STOP, Sequence
from prometeo.contracts.events import OutcomeKind

# held_out: the customer drew the campaign's control group and is sent nothing.
Status = Literal["active", "completed", "stopped", "held_out"]


class SequenceState(BaseModel):
    campaign_id: str
    customer_key: str
    offer_id: str
    step_id: str
    step_no: int = 1  # increases on every step entered: identifies the step's timer and send
    entered_at: datetime
    seen: list[OutcomeKind] = []  # outcomes seen during the current step
    status: Status = "active"
    path: list[str] = []  # steps entered, in order
    stopped_by: OutcomeKind | None = None
    skipped: list[str] = []  # steps not sent: no marketing permission for their channel
    timezone: str | None = None  # the customer's, for quiet hours


@dataclass(frozen=True)
class RunStep:
    step_id: str
    step_no: int


@dataclass(frozen=True)
class ArmTimer:
    step_no: int
    after_days: float


Action = RunStep | ArmTimer


def start(
    sequence: Sequence, campaign_id: str, customer_key: str, offer_id: str, now: datetime, timezone: str | None = None
) -> tuple[SequenceState, list[Action]]:
    first = sequence.steps[0].id
    state = SequenceState(
        campaign_id=campaign_id,
        customer_key=customer_key,
        offer_id=offer_id,
        step_id=first,
        step_no=0,
        entered_at=now,
        timezone=timezone,
    )
    return _enter(sequence, state, first, now)


def held_out(sequence: Sequence, campaign_id: str, customer_key: str, offer_id: str, now: datetime) -> SequenceState:
    """A control-group customer: enrolled (they count in the experiment) but never contacted."""
    return SequenceState(
        campaign_id=campaign_id,
        customer_key=customer_key,
        offer_id=offer_id,
        step_id=sequence.steps[0].id,
        step_no=0,
        entered_at=now,
        status="held_out",
    )


def skip(sequence: Sequence, state: SequenceState, step_no: int, now: datetime) -> tuple[SequenceState, list[Action]]:
    """The step could not be sent (no permission for its channel): nothing can be opened or clicked,
    so its wait ends now — on to the timeout's step, or the end."""
    if state.status not in ("active", "completed") or step_no != state.step_no:
        return state, []
    state = state.model_copy(update={"skipped": [*state.skipped, state.step_id]})
    timeout = sequence.step(state.step_id).timeout
    if timeout is None:
        return state.model_copy(update={"status": "completed"}), []
    return _enter(sequence, state.model_copy(update={"status": "active"}), timeout.goto, now)


def on_outcome(
    sequence: Sequence, state: SequenceState, kind: OutcomeKind, now: datetime
) -> tuple[SequenceState, list[Action]]:
    if state.status != "active":
        return state, []
    if kind in sequence.stop_on:
        return state.model_copy(update={"status": "stopped", "stopped_by": kind}), []
    seen = state.seen if kind in state.seen else [*state.seen, kind]
    state = state.model_copy(update={"seen": seen})
    target = sequence.step(state.step_id).on.get(kind)
    return (state, []) if target is None else _enter(sequence, state, target, now)


def on_timer(
    sequence: Sequence, state: SequenceState, step_no: int, now: datetime
) -> tuple[SequenceState, list[Action]]:
    if state.status != "active" or step_no != state.step_no:
        return state, []  # the customer moved on, or the sequence ended
    timeout = sequence.step(state.step_id).timeout
    if timeout is None or any(kind in state.seen for kind in timeout.unless):
        return state, []
    return _enter(sequence, state, timeout.goto, now)


def _enter(sequence: Sequence, state: SequenceState, step_id: str, now: datetime) -> tuple[SequenceState, list[Action]]:
    if step_id == STOP:
        return state.model_copy(update={"status": "completed"}), []
    step = sequence.step(step_id)
    number = state.step_no + 1
    waits = bool(step.on or step.timeout)
    state = state.model_copy(
        update={
            "step_id": step_id,
            "step_no": number,
            "entered_at": now,
            "seen": [],
            "path": [*state.path, step_id],
            # A step with nothing to wait for is the last one.
            "status": "active" if waits else "completed",
        }
    )
    actions: list[Action] = [RunStep(step_id, number)]
    if step.timeout:
        actions.append(ArmTimer(number, step.timeout.after_days))
    return state, actions
