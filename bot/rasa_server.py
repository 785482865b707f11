"""``python -m bot.rasa_server run …``: Rasa's own command line, with Anxin's outage reply.

The launchers (``bot.serve``, ``bot.cluster``) start the Rasa server through
this module instead of ``python -m rasa`` so that ``bot.action_outage`` is in
place before Rasa loads; every argument is Rasa's.
"""

from __future__ import annotations

import sys

from rasa.__main__ import main as rasa_main

from bot import action_outage

if __name__ == "__main__":
    action_outage.install()
    sys.argv[0] = "rasa"
    sys.exit(rasa_main())
