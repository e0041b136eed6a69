#!/usr/bin/env python3
"""The action's main step: `python entrypoint.py`, as the container's ENTRYPOINT runs it.

Everything happens in ecsundo_action.edges.action.main: inputs are checked before anything
heavy is imported or any AWS call is made.
"""

import sys

from ecsundo_action.edges.action import main

if __name__ == "__main__":
    sys.exit(main())
