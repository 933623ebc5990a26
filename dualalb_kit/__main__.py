"""``python -m dualalb_kit``: the command line, as the ``dualalb-kit`` program."""

from .cli import main

raise SystemExit(main())
