"""``python -m dualalb_kit.cli``: the command line."""

from . import main

raise SystemExit(main())
