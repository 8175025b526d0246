"""``python -m zoo`` (what torchrun launches) runs the same command as ``zoo``."""

from zoo.cli import main

main()
