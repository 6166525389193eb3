"""``python -m roofpv``: the command line."""

import sys

from roofpv.cli import main

sys.exit(main())
