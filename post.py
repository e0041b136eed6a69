#!/usr/bin/env python3
"""The action's post step (`post-entrypoint`), run in a fresh container when the job
failed: restores the snapshot a `mode: guard` step took; does nothing otherwise."""

import sys

from ecsundo_action.edges.action import post

if __name__ == "__main__":
    sys.exit(post())
