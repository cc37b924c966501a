"""`python -m service.cli` runs the `kintrace` command."""

from service.cli import main

main()
