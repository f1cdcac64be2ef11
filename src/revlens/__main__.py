"""`python -m revlens` runs the CLI."""

from revlens.cli import main

main()
