"""A process and its children, read from /proc (Linux): memory high-water marks and CPU time.

VmHWM   the peak resident set of one process; writing "5" to /proc/<pid>/clear_refs resets
        it to the current RSS (Linux >= 4.0), so each benchmark section gets its own peak
VmRSS   the resident set now; MemoryWatch samples the sum over the tree, for the peak of
        the service as a whole (its worker processes peak at different moments)
utime + stime in /proc/<pid>/stat: CPU seconds, to tell a CPU-bound service from a waiting one
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def tree(root: int) -> list[int]:
    """`root` and all its descendants that are alive now."""
    parents: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if (PROC / str(pid)).exists():
            found.append(pid)
            todo += parents.get(pid, [])
    return found


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of one process, in KiB ({} when it is gone)."""
    values: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def reset_peak(pid: int) -> bool:
    try:
        (PROC / str(pid) / "clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def named_cpu_seconds(name: str) -> dict[int, float]:
    """CPU seconds of each live process whose command name is `name` ("postgres": the
    database server and its backends, whoever they serve), by pid."""
    found: dict[int, float] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if stat[stat.index("(") + 1 : stat.rindex(")")] == name:
                fields = stat.rsplit(")", 1)[1].split()
                found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICKS
    return found


def system_busy_seconds() -> float:
    """CPU seconds all processes of the machine have used since boot (/proc/stat), without
    the time the hypervisor took (see stolen_seconds): that time did none of the machine's
    work, so it counts neither as the batch's CPU nor as other programs'."""
    fields = _cpu_line()
    if not fields:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / _TICKS


def stolen_seconds() -> float:
    """CPU seconds since boot that this machine's cores wanted to run and the hypervisor gave
    to other machines instead ("steal" in /proc/stat; 0 on bare metal). On the shared virtual
    machines the benchmark runs on, a batch of section c lost up to 18% of its cores' time."""
    fields = _cpu_line()
    return fields[7] / _TICKS if len(fields) > 7 else 0.0


def _cpu_line() -> list[int]:
    with contextlib.suppress(OSError, ValueError):
        return [int(f) for f in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    return []


@dataclass
class MemoryPeak:
    section: str
    processes: int
    tree_peak_kib: int  # highest sampled sum of VmRSS over the tree
    largest_hwm_kib: int  # highest VmHWM of one process
    hwm_sum_kib: int  # sum of the processes' VmHWM: an upper bound of the tree's peak
    reset: bool  # False: VmHWM could not be reset and covers the process's whole life


@dataclass
class MemoryWatch:
    """Samples the tree under `root` every `interval` s; peaks are kept per section."""

    root: int
    interval: float = 0.2
    peaks: list[MemoryPeak] = field(default_factory=list)
    _section: str | None = None
    _tree_peak: int = 0
    _reset: bool = True
    _task: asyncio.Task[None] | None = None

    def start(self, section: str) -> None:
        self._section, self._tree_peak = section, 0
        self._reset = all([reset_peak(pid) for pid in tree(self.root)])
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def stop(self) -> MemoryPeak:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._take()
        pids = tree(self.root)
        hwm = [memory_kib(pid).get("VmHWM", 0) for pid in pids]
        peak = MemoryPeak(
            section=self._section or "?",
            processes=len(pids),
            tree_peak_kib=self._tree_peak,
            largest_hwm_kib=max(hwm, default=0),
            hwm_sum_kib=sum(hwm),
            reset=self._reset,
        )
        self.peaks.append(peak)
        return peak

    def _take(self) -> None:
        rss = sum(memory_kib(pid).get("VmRSS", 0) for pid in tree(self.root))
        self._tree_peak = max(self._tree_peak, rss)

    async def _sample(self) -> None:
        while True:
            # /proc reads are fast but scanning every process is not free; off the loop.
            await asyncio.to_thread(self._take)
            await asyncio.sleep(self.interval)


__all__ = [
    "MemoryPeak",
    "MemoryWatch",
    "cpu_seconds",
    "memory_kib",
    "reset_peak",
    "stolen_seconds",
    "system_busy_seconds",
    "tree",
]
