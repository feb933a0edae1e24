"""``python -m bot.actions.server -p <port>``: the action server (rasa_sdk's own command line,
with ``--actions bot.actions``), its log records masked like the app's (knowledge.masking).

The masking is installed when this module is imported. Sanic runs the server in a worker
process started by spawning a fresh interpreter, which imports the parent's main module again —
unless it is a package's ``__main__`` (multiprocessing skips those), hence a module of its own.
"""

import sys

from knowledge.masking import install_log_masking

install_log_masking()


def main() -> None:
    from rasa_sdk.__main__ import main as rasa_sdk_main

    if "--actions" not in sys.argv:
        sys.argv[1:1] = ["--actions", "bot.actions"]
    sys.argv[0] = "rasa_sdk"
    rasa_sdk_main()


if __name__ == "__main__":
    main()
