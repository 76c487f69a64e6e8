"""How many threads a training run should use: the cores nobody else is using.

PyTorch's CPU kernels split each operation across `torch.get_num_threads()` threads and wait
for the slowest. On a shared machine a core that another process keeps busy makes that
thread the slowest one every time: on the 2-core VM with one core busy, a MiniLM training
step took 0.90 s with 2 threads and 0.53 s with 1 (0.33 s with 2 on the idle machine; see
docs/benchmarks.md, "Demo first run"). So the trainer asks, at the start and every few
steps, how many cores the *other* processes are using, and trains on the rest.

The measure: the machine's busy CPU time (`/proc/stat`) less this process's own
(`/proc/self/stat`) over the last interval, in cores. Where those files do not exist (not
Linux) or threads were pinned by the user (`ASSISTANT_TRAIN_THREADS`, or `OMP_NUM_THREADS`
for every library), nothing changes.

>>> ThreadGovernor.threads_for(free_cores=1.3, max_threads=2)
1
>>> ThreadGovernor.threads_for(free_cores=1.7, max_threads=2)
2
>>> ThreadGovernor.threads_for(free_cores=0.2, max_threads=8)
1
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

ENV = "ASSISTANT_TRAIN_THREADS"  # a fixed thread count for training (no adapting)
SLACK = 0.4  # a core counts as free when at least 0.6 of it is idle
MIN_INTERVAL_S = 2.0  # between two measurements (shorter intervals are mostly noise)


def _machine_ticks(stat: Path = Path("/proc/stat")) -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot."""
    fields = [int(x) for x in stat.read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


def _own_ticks(stat: Path = Path("/proc/self/stat")) -> int:
    """This process's user + system clock ticks (all its threads)."""
    text = stat.read_text()
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return int(fields[11]) + int(fields[12])  # utime, stime


class ThreadGovernor:
    """Sets `torch.set_num_threads` to the cores other processes leave free.

    `adjust()` is cheap (two small file reads); call it between training steps. It measures
    over the time since its last measurement and does nothing more often than every
    `MIN_INTERVAL_S`. `log` is told when the count changes.
    """

    def __init__(
        self,
        max_threads: int | None = None,
        log: Callable[[str], None] | None = None,
        set_threads: Callable[[int], None] | None = None,
    ) -> None:
        self.cores = os.cpu_count() or 1
        self.max_threads = max(1, max_threads or self.cores)
        self.log = log
        self._set = set_threads
        self.pinned = _pinned()
        self.enabled = self.pinned is None and Path("/proc/stat").is_file()
        self.threads: int | None = None
        self._last: tuple[float, int, int, int] | None = None
        if self.pinned is not None:
            self._apply(self.pinned, why=f"{ENV if os.environ.get(ENV) else 'OMP_NUM_THREADS'}")
        elif self.enabled:
            self._last = self._sample()

    @staticmethod
    def threads_for(free_cores: float, max_threads: int) -> int:
        """Threads for `free_cores` cores left by others (at least 1, at most `max_threads`)."""
        return max(1, min(max_threads, math.floor(free_cores + SLACK)))

    def _sample(self) -> tuple[float, int, int, int]:
        busy, total = _machine_ticks()
        return time.monotonic(), busy, total, _own_ticks()

    def free_cores(self, min_interval: float = MIN_INTERVAL_S) -> float | None:
        """Cores not used by other processes since the last measurement (None: too soon)."""
        if not self.enabled or self._last is None:
            return None
        t0, busy0, total0, own0 = self._last
        if time.monotonic() - t0 < min_interval:  # between training steps: no file reads
            return None
        now = self._sample()
        if now[2] <= total0:
            return None
        self._last = now
        others = max(0, (now[1] - busy0) - (now[3] - own0))
        return self.cores * (1.0 - others / (now[2] - total0))

    def adjust(self, min_interval: float = MIN_INTERVAL_S) -> int | None:
        """Re-measure and set the thread count; returns it (None: left as it was, because
        less than `min_interval` seconds passed since the last measurement)."""
        free = self.free_cores(min_interval)
        if free is None:
            return None
        n = self.threads_for(free, self.max_threads)
        if n != self.threads:
            self._apply(n, why=f"{self.cores - free:.1f} of {self.cores} cores busy elsewhere")
        return n

    def settle(self, window: float = 0.3) -> int | None:
        """Measure over the next `window` seconds (this process idle meanwhile) and set the
        thread count: before a long piece of work that starts right away."""
        if not self.enabled:
            return None
        self._last = self._sample()
        time.sleep(window)
        return self.adjust(min_interval=0.0)

    def _apply(self, n: int, why: str) -> None:
        if self._set is None:
            import torch

            self._set = torch.set_num_threads
        first = self.threads is None
        self._set(n)
        if self.log is not None and not (first and n == self.max_threads):
            self.log(f"training on {n} thread{'s' if n != 1 else ''} ({why})")
        self.threads = n


def _pinned() -> int | None:
    for name in (ENV, "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def free_threads(window: float = 0.3) -> int:
    """Threads for a piece of work starting now (an encoder's intra-op threads, fixed when it
    is loaded): the cores other processes leave free over the next `window` seconds, or the
    pinned count."""
    governor = ThreadGovernor(set_threads=lambda n: None)
    if governor.pinned is not None:
        return governor.pinned
    chosen = governor.settle(window) if governor.enabled else None
    return chosen or governor.max_threads
