"""Import first in every entry point, before torch loads OpenMP: idle OpenMP threads then spin only
briefly, so they do not steal the cores the emulator threads need (compare
``GOMP_SPINCOUNT=300000 python bench.py``, libgomp's default)."""

import os

os.environ.setdefault("GOMP_SPINCOUNT", "10000")
