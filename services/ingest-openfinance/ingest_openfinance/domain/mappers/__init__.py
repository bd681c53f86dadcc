"""Pure mappers: one source document (Open Finance Brasil, UK Open Banking, Belvo webhook) → canonical items.

Each mapper returns a `Mapped`: the customer identifier the document belongs to and, per source record, either
a canonical event dict (the `CanonicalEventCreate` shape, so `EventIngestion.ingest` gates, de-duplicates and
publishes it) or an `ItemError` naming the field path. A document that cannot be read at all raises
`DocumentError` (422).
Source models ignore unknown fields, so names, document numbers and free text never leave the mapper.
"""
