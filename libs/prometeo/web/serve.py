"""Run a service with uvicorn on its settings' host and port (`python -m <service>`)."""

import uvicorn

from prometeo.settings import SharedSettings
from prometeo.telemetry.logs import configure_logging


def serve(app_path: str, service: str, settings: SharedSettings) -> None:
    configure_logging(service, settings.log_level)
    uvicorn.run(app_path, host=settings.host, port=settings.port, log_config=None, access_log=False)
