"""``python -m neuromorph`` runs the command line."""

from .cli import main

main()
