"""The benchmark's header: the CPU speed probe that makes two runs' figures comparable."""

from __future__ import annotations

from service.bench.machine import cpu_probe, probe_line


def test_the_probe_times_each_run_of_its_loop() -> None:
    short, long = cpu_probe(runs=3, loops=20_000), cpu_probe(runs=3, loops=2_000_000)
    assert len(short) == len(long) == 3
    assert all(seconds > 0 for seconds in short + long)
    assert max(short) < min(long)  # a hundred times the loop is not as fast


def test_the_line_gives_median_and_range_at_start_and_end() -> None:
    line = probe_line([0.080, 0.090, 0.120], [0.150, 0.140, 0.160])
    assert "90 ms (of 80–120) at the start" in line
    assert "150 ms (of 140–160) at the end" in line
