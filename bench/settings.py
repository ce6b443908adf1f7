"""Production settings for the benchmark, with one thing the environment cannot set.

podari/settings.py fixes STATIC_ROOT to ./staticfiles; the benchmark collects static
files into its own throwaway folder instead, so a run never touches a developer's.
Everything else comes from the environment exactly as in production.
"""

import os
from pathlib import Path

from podari.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
