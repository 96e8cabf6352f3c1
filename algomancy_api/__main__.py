"""`python -m algomancy_api serve ...` (and every other command)."""

import sys

from algomancy_api.cli import main

sys.exit(main())
