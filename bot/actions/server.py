"""``python -m bot.actions.server -p <port>``: the action server (rasa_sdk's own command line,
with ``--actions bot.actions``), in one process, its log records masked like the app's
(knowledge.masking).

rasa_sdk's ``run`` serves through Sanic's worker manager: a main process, a manager process and a
worker, each of which imported the actions — three copies of everything they load (about 1 GB
each with the retrieval model). This module builds the same Sanic app with rasa_sdk's own
factory (``create_app_for_serve``: the same routes, listeners and plugins) and serves it in this
one process; a crash exits it, and the launcher's supervisor starts it again.

Rasa sends the domain (about 90 KB of JSON) only to the actions that declare they need it
(``send_domain: true`` in bot/domain, Rasa's selective domain): the forms' validations.
rasa_sdk 3.21 expects either a domain or a digest of one it holds and refuses a call with
neither; :class:`SelectiveDomainExecutor` runs such a call with the last domain it was sent (or an
empty one), which the actions that do not declare the need never read.

``/health`` answers at once, as rasa_sdk's does, but says ``warming`` until the model and index
are loaded (retrieval/warmup.py; turns that need them wait for them meanwhile) and ``failed``
when loading them failed; the app's /health shows it as the actions part.

The masking is installed when this module is imported, before anything logs.
"""

import logging
import os
import sys
from typing import Any

from rasa_sdk.executor import ActionExecutor

from knowledge.masking import install_log_masking

install_log_masking()


class SelectiveDomainExecutor(ActionExecutor):
    def update_and_return_domain(self, payload: dict[str, Any], action_name: str) -> Any:
        if payload.get("domain") is None and payload.get("domain_digest") is None:
            return self.domain or {}  # an action that does not read the domain
        return super().update_and_return_domain(payload, action_name)


async def health_with_warm_up(request: Any) -> Any:
    from sanic.response import json

    from retrieval.warmup import state

    if request.path == "/health" and state() != "ok":
        return json({"status": state()})
    return None


def main() -> None:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser
    from sanic import Sanic

    argv = sys.argv[1:]
    if "--actions" not in argv:
        argv[0:0] = ["--actions", "bot.actions"]
    args = create_argument_parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()

    executor = SelectiveDomainExecutor()
    executor.register_package(args.actions_module or args.actions)
    app = create_app_for_serve(
        executor, cors_origins=args.cors, auto_reload=args.auto_reload, endpoints=args.endpoints
    )
    app.on_request(health_with_warm_up, priority=100)
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    logging.getLogger(__name__).info("Action endpoint is up and running on %s:%s", host, args.port)
    app.prepare(host=host, port=args.port, single_process=True, motd=False)
    Sanic.serve_single(app)


if __name__ == "__main__":
    main()
