"""Ingest's use cases, one module each; routers depend on the one they need (`deps.py`).

- `events.py` — canonical and mapped events: validate, pseudonymise, gate on consent, de-duplicate, publish.
- `consents.py` — consents granted, changed, registered as a source standard reports them, expired by time.
- `marketing.py` — per-channel marketing opt-in/opt-out and do-not-contact registry imports.
- `data_subject.py` — data-subject rights: export of what ingest holds, erasure across the platform.
- `common.py` — what they share: the pseudonym of a customer id and publishing this service's events.
"""
