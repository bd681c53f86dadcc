"""Structured JSON logs with PII redaction, Prometheus metric declarations, OpenTelemetry traces."""
