"""Prometeo shared library: contracts, bus, settings, telemetry, Redis keys and web plumbing."""
