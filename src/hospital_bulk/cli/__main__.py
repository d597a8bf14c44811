"""Run the CLI as `python -m hospital_bulk.cli`."""

from hospital_bulk.cli import main

main()
