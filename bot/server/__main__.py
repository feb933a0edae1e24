"""``python -m bot.server run …``: Rasa's own command line, after the start-up patches.

Run with the Rasa environment's interpreter (``.venv-rasa/bin/python``) from the project root.
``QCLINIC_RASA_PATCHES=none`` starts Rasa unpatched (benchmarks compare against it).
"""

import os
import sys

from bot.server import log_masking, patches


def main() -> None:
    log_masking.install()  # mobiles, ID numbers and credit codes never reach Rasa's log
    off = os.environ.get("QCLINIC_RASA_PATCHES", "all") == "none"
    applied = [] if off else patches.apply()
    from rasa.__main__ import main as rasa_main

    print(f"[rasa] start-up patches: {', '.join(applied) or 'none'}", file=sys.stderr, flush=True)
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
