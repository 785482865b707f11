"""``python -m bot.rules``: see ``bot.rules.cli``."""

import sys

from bot.rules.cli import main

sys.exit(main())
