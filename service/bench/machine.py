"""The machine and code a benchmark ran on, for the header of its Markdown report."""

from __future__ import annotations

import contextlib
import os
import platform
import sqlite3
import statistics
import subprocess
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from service.settings import PROJECT_ROOT

PACKAGES = ("litestar", "uvicorn", "sqlalchemy", "aiosqlite", "asyncpg", "openai", "instructor")
# The probe's loop: about 0.08 s of one core on the AMD EPYC the README's figures come from.
PROBE_LOOPS = 2_000_000


def usable_cores() -> int:
    """Cores this process may run on (its affinity), else the cores online."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine_info() -> dict[str, str]:
    cores = os.cpu_count() or 0
    usable = usable_cores()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "git commit": _git_commit(),
        "CPU": _cpu_model(),
        "cores": f"{usable} usable ({cores} online)",
        "RAM": _memory(),
        "OS": _os_name(),
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "SQLite": sqlite3.sqlite_version,
        "packages": ", ".join(f"{name} {_version(name)}" for name in PACKAGES),
    }


def cpu_probe(runs: int = 5, loops: int = PROBE_LOOPS) -> list[float]:
    """CPU seconds a fixed pure-Python loop takes, `runs` times. The same model of CPU is not
    the same speed: on the shared 2-core machines these figures come from, one fixed loop's
    CPU time varied by up to 1.8x within minutes (1.04 to 1.87 s), so the benchmark reads
    this at its start and end, and figures from two runs compare only as far as their probes
    agree."""
    seconds = []
    for _ in range(runs):
        started = time.process_time()
        total = 0
        for i in range(loops):
            total += i
        seconds.append(time.process_time() - started)
    return seconds


def probe_line(before: list[float], after: list[float]) -> str:
    def show(readings: list[float]) -> str:
        low, mid, high = min(readings), statistics.median(readings), max(readings)
        return f"{mid * 1000:.0f} ms (of {low * 1000:.0f}–{high * 1000:.0f})"

    return (
        f"{PROBE_LOOPS:,} additions in pure Python, median of {len(before)}: {show(before)} "
        f"at the start, {show(after)} at the end; lower is faster"
    )


def stolen_line(stolen: float, elapsed: float, cores: int) -> str:
    """How much of the machine's core time the hypervisor gave away while the service ran."""
    share = stolen / (elapsed * cores) if elapsed > 0 else 0.0
    return (
        f"{stolen:.1f} s of {cores} cores × {elapsed:,.0f} s ({share:.1%}) while the service ran "
        f"(steal in /proc/stat; 0 on bare metal)"
    )


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return "unknown"


def _os_name() -> str:
    pretty = ""
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                pretty = line.split("=", 1)[1].strip('"') + ", "
    return f"{pretty}{platform.system()} {platform.release()}"


def _git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} (with uncommitted changes)" if dirty else commit


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


__all__ = ["cpu_probe", "machine_info", "probe_line", "stolen_line", "usable_cores"]
