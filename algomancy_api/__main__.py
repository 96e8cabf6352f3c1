"""`python -m algomancy_api serve ...`."""

import sys

from algomancy_api.cli import main

sys.exit(main())
