"""What a benchmark ran on: printed with every figure (docs/benchmarks.md quotes it).

    >>> sorted(machine())
    ['amx', 'bf16', 'cores', 'cpu', 'load_avg_1m', 'python']
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine() -> dict:
    """CPU model, cores, whether the CPU computes bf16 natively (AVX512-BF16 or AMX, which
    decides torch's precision and which backend is faster), the 1-minute load average (other
    processes on the machine) and the Python version."""
    model, flags = "unknown", ""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith("model name") and model == "unknown":
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = line
    except OSError:
        model = platform.processor() or "unknown"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "bf16": "avx512_bf16" in flags or "amx_bf16" in flags,
        "amx": "amx_tile" in flags,
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
    }
