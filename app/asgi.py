"""ASGI entry point: `uvicorn app.asgi:app`."""

import logging

from app.main import create_app
from desk.masking import install_log_masking

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
install_log_masking()  # mobiles, ID numbers and credit codes never reach a log line
app = create_app()
