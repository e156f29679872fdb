"""``python -m sandbox`` (what ``make run`` calls): see ``sandbox/run.py``."""

import sys

from sandbox.run import main

sys.exit(main())
