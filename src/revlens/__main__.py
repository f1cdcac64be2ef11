"""`python -m revlens` runs the CLI."""

import sys

try:
    from revlens.cli import main
except KeyboardInterrupt:
    # Ctrl-C while the CLI loads (a `revlens demo` stopped as its workers start): no traceback.
    sys.exit(130)

main()
