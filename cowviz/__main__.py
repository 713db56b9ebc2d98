"""python -m cowviz: see cowviz/cli.py."""
import sys

from .cli import main

sys.exit(main())
