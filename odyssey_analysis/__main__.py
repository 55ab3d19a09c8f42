"""``python -m odyssey_analysis``: the ``odyssey`` command line."""

from .cli import main

main()
