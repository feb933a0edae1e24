"""``python -m bot.actions.server -p <port>``: the action server (rasa_sdk's own command line,
with ``--actions bot.actions``), in one process, its log records masked like the app's
(knowledge.masking).

rasa_sdk's ``run`` serves through Sanic's worker manager: a main process, a manager process and a
worker, each of which imported the actions — three copies of everything they load (about 1 GB
each with the retrieval model). This module builds the same Sanic app with rasa_sdk's own
factory (``create_app_for_serve``: the same routes, listeners and plugins) and serves it in this
one process; a crash exits it, and the launcher's supervisor starts it again.

The masking is installed when this module is imported, before anything logs.
"""

import logging
import os
import sys

from knowledge.masking import install_log_masking

install_log_masking()


def main() -> None:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser
    from rasa_sdk.executor import ActionExecutor
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

    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    app = create_app_for_serve(
        executor, cors_origins=args.cors, auto_reload=args.auto_reload, endpoints=args.endpoints
    )
    host = os.environ.get("SANIC_HOST", "0.0.0.0")
    logging.getLogger(__name__).info("Action endpoint is up and running on %s:%s", host, args.port)
    app.prepare(host=host, port=args.port, single_process=True, motd=False)
    Sanic.serve_single(app)


if __name__ == "__main__":
    main()
