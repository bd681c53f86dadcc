"""FastAPI plumbing every service shares: health/readiness/metrics, problem+json errors, telemetry."""

from prometeo.web.app import ReadinessCheck, build_app
from prometeo.web.problems import Problem

__all__ = ["Problem", "ReadinessCheck", "build_app"]
