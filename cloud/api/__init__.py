"""The platform's HTTP API (FastAPI): one router per resource under ``/api/v1``, the dashboard."""

from cloud.api.app import create_app

__all__ = ["create_app"]
