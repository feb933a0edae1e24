"""ASGI entry point: `uvicorn desk.asgi:app`."""

import logging

from desk.main import create_app

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
app = create_app()
