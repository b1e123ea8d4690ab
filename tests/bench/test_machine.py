"""The benchmark's header: the CPU speed probe that makes two runs' figures comparable, and
the time the hypervisor took from the machine."""

from __future__ import annotations

import pytest

from service.bench import procs
from service.bench.machine import cpu_probe, probe_line, stolen_line


def test_the_probe_times_each_run_of_its_loop() -> None:
    short, long = cpu_probe(runs=3, loops=20_000), cpu_probe(runs=3, loops=2_000_000)
    assert len(short) == len(long) == 3
    assert all(seconds > 0 for seconds in short + long)
    assert max(short) < min(long)  # a hundred times the loop is not as fast


def test_the_line_gives_median_and_range_at_start_and_end() -> None:
    line = probe_line([0.080, 0.090, 0.120], [0.150, 0.140, 0.160])
    assert "90 ms (of 80–120) at the start" in line
    assert "150 ms (of 140–160) at the end" in line


def test_time_the_hypervisor_took_is_stolen_not_busy(tmp_path, monkeypatch) -> None:
    # user nice system idle iowait irq softirq steal guest guest_nice, in 1/100 s ticks
    (tmp_path / "stat").write_text("cpu  500 10 200 9000 40 5 5 300 0 0\ncpu0 1 2 3\n")
    monkeypatch.setattr(procs, "PROC", tmp_path)
    monkeypatch.setattr(procs, "_TICKS", 100)
    assert procs.system_busy_seconds() == pytest.approx(7.2)  # 500+10+200+5+5, no steal
    assert procs.stolen_seconds() == pytest.approx(3.0)


def test_without_proc_stat_nothing_is_busy_or_stolen(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(procs, "PROC", tmp_path)
    assert procs.system_busy_seconds() == procs.stolen_seconds() == 0.0


def test_the_stolen_line_gives_seconds_and_share_of_core_time() -> None:
    line = stolen_line(12.0, 600.0, 2)
    assert line.startswith("12.0 s of 2 cores × 600 s (1.0%) while the service ran")
