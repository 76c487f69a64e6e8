"""training.threads: training uses the cores other processes leave free."""

from __future__ import annotations

import pytest

from training import threads as th


class FakeClock:
    """/proc/stat and /proc/self/stat as counters the test advances."""

    def __init__(self, cores: int = 2) -> None:
        self.cores = cores
        self.t = 0.0
        self.busy = 0
        self.total = 0
        self.own = 0

    def tick(self, seconds: float, others: float, own: float) -> None:
        """`seconds` pass; other processes use `others` cores, this one `own` cores."""
        hz = 100
        self.t += seconds
        self.total += int(seconds * hz * self.cores)
        self.busy += int(seconds * hz * (others + own))
        self.own += int(seconds * hz * own)


@pytest.fixture
def clock(monkeypatch):
    c = FakeClock()
    monkeypatch.setattr(th, "_machine_ticks", lambda: (c.busy, c.total))
    monkeypatch.setattr(th, "_own_ticks", lambda: c.own)
    monkeypatch.setattr(th.time, "monotonic", lambda: c.t)
    monkeypatch.setattr(th.os, "cpu_count", lambda: c.cores)
    monkeypatch.delenv(th.ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    return c


def governor(log=None):
    chosen: list[int] = []
    g = th.ThreadGovernor(log=log, set_threads=chosen.append)
    g.enabled = True  # the fake clock stands in for /proc
    g._last = g._sample()
    return g, chosen


def test_one_busy_core_elsewhere_means_one_thread(clock):
    messages: list[str] = []
    g, chosen = governor(messages.append)
    clock.tick(5, others=1.0, own=1.0)
    assert g.adjust() == 1 and chosen == [1]
    assert "1.0 of 2 cores busy elsewhere" in messages[0]


def test_idle_machine_means_every_core_and_own_load_does_not_count(clock):
    g, chosen = governor()
    clock.tick(5, others=0.0, own=2.0)  # this process alone keeps both cores busy
    assert g.adjust() == 2 and chosen == [2]


def test_back_to_two_threads_when_the_other_process_stops(clock):
    g, chosen = governor()
    clock.tick(5, others=1.0, own=1.0)
    g.adjust()
    clock.tick(5, others=0.1, own=1.0)
    assert g.adjust() == 2
    assert chosen == [1, 2]


def test_no_change_measured_more_often_than_the_interval(clock):
    g, chosen = governor()
    clock.tick(0.5, others=1.0, own=1.0)
    assert g.adjust() is None and chosen == []


def test_pinned_threads_are_kept(clock, monkeypatch):
    monkeypatch.setenv(th.ENV, "3")
    chosen: list[int] = []
    g = th.ThreadGovernor(set_threads=chosen.append)
    assert chosen == [3] and not g.enabled
    clock.tick(5, others=1.9, own=0.1)
    assert g.adjust() is None and chosen == [3]


def test_reads_this_machine():
    """The real /proc files parse (Linux CI): busy <= total, own ticks >= 0."""
    if not th.Path("/proc/stat").is_file():
        pytest.skip("no /proc")
    busy, total = th._machine_ticks()
    assert 0 <= busy <= total and th._own_ticks() >= 0
