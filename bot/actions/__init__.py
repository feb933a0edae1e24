"""Custom actions of the 质量门诊 assistant, served by rasa_sdk.

Run from the repository root: `python -m rasa_sdk --actions bot.actions -p 5055`.
One module per feature. Modules import only rasa_sdk and our own packages, and build nothing
heavy at import time: settings, the desk client and the retrieval index are made on first use.
"""

import os

if os.environ.get("QCLINIC_WARM_UP") == "1":  # set by the launcher, not in unit tests
    from retrieval.warmup import start_background

    start_background()
