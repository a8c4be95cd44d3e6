"""The platform process: settings, wiring of the stages, FastAPI app, dashboard and the ``xj`` CLI."""
