"""`factcheck serve`: migrate once in the parent, then one process or N workers (uvicorn faked)."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import uvicorn.supervisors
from litestar import Litestar
from typer.testing import CliRunner

from service import asgi
from service.cli import app
from service.metrics import MULTIPROC_ENV

runner = CliRunner()


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """serve and asgi.create configure the root logger; put pytest's handlers back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def keep_collector() -> Iterator[None]:
    """serve and asgi.create tune this process's garbage collector; undo it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    return {
        "FACTCHECK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "FACTCHECK_SEED_DIR": "",
        "FACTCHECK_LOG_FORMAT": "text",
    }


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """uvicorn.run (one worker) and uvicorn's worker supervisor (several) replaced by
    recorders of what they were asked, and the environment then."""
    calls: list[dict[str, Any]] = []

    def fake_run(target: Any, **options: Any) -> None:
        folder = os.environ.get(MULTIPROC_ENV)
        calls.append({"target": target, "metrics_dir": folder, **options})
        assert folder is None or Path(folder).is_dir()

    class FakeSupervisor:
        def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
            self.config, self.sockets = config, sockets

        def run(self) -> None:
            config = self.config
            options = {"factory": config.factory, "workers": config.workers, "port": config.port}
            options |= {"log_config": config.log_config, "access_log": config.access_log}
            fake_run(config.app, **options, sockets=self.sockets)
            for sock in self.sockets:
                sock.close()

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", FakeSupervisor)
    return calls


def test_workers_get_the_factory_and_a_shared_metrics_folder(
    env: dict[str, str], served: list[dict[str, Any]]
) -> None:
    result = runner.invoke(app, ["serve", "--workers", "3", "--port", "8123"], env=env)
    assert result.exit_code == 0, result.output
    assert "with 3 workers" in result.output
    (call,) = served
    assert call["target"] == "service.asgi:create"
    assert (call["factory"], call["workers"], call["port"]) == (True, 3, 8123)
    assert call["log_config"] is None  # our handler, not uvicorn's, formats its lines
    assert call["access_log"] is False  # one access line per request, ours, with its id
    assert call["metrics_dir"] is not None
    assert not Path(call["metrics_dir"]).exists()  # removed when the server stops
    assert MULTIPROC_ENV not in os.environ
    assert Path("serve.db").exists()  # migrated in the parent, before the workers
    [sock] = call["sockets"]
    if asgi.spreads_connections():
        assert isinstance(sock, asgi.WorkerSocket)


def test_one_worker_serves_the_app_object(
    env: dict[str, str], served: list[dict[str, Any]]
) -> None:
    result = runner.invoke(app, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    (call,) = served
    assert isinstance(call["target"], Litestar)
    assert "workers" not in call
    assert call["metrics_dir"] is None
    assert_settled()


def assert_settled() -> None:
    # Tuned for serving: startup's objects frozen out of collections, a larger young budget.
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == asgi.GC_YOUNG_ALLOCATIONS


def test_workers_from_the_environment(env: dict[str, str], served: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve"], env={**env, "FACTCHECK_WORKERS": "2"})
    assert result.exit_code == 0, result.output
    assert served[0]["workers"] == 2


def test_bad_worker_counts_are_refused(env: dict[str, str], served: list[dict[str, Any]]) -> None:
    option = runner.invoke(app, ["serve", "--workers", "0"], env=env)
    assert option.exit_code == 2  # usage error, from the option's own bounds
    assert "--workers" in option.output
    variable = runner.invoke(app, ["serve"], env={**env, "FACTCHECK_WORKERS": "0"})
    assert variable.exit_code == 3
    assert "FACTCHECK_WORKERS" in variable.output
    assert served == []


def test_worker_factory_builds_the_app_from_the_environment(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {**env, "FACTCHECK_LOG_LEVEL": "warning"}.items():
        monkeypatch.setenv(name, value)
    assert isinstance(asgi.create(), Litestar)
    assert logging.getLogger().level == logging.WARNING
    assert_settled()


linux_only = pytest.mark.skipif(
    not asgi.spreads_connections(), reason="SO_REUSEPORT balances connections on Linux only"
)


@linux_only
def test_each_worker_gets_a_socket_of_its_own_on_the_same_port() -> None:
    config = uvicorn.Config(asgi.FACTORY, host="127.0.0.1", port=0)
    with asgi.listening_socket(config) as parent:
        port = parent.getsockname()[1]
        assert parent.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        # What uvicorn's supervisor does to hand it to a spawned worker.
        data = bytes(ForkingPickler.dumps([parent]))
        with pickle.loads(data)[0] as worker, pickle.loads(data)[0] as another:
            assert worker.fileno() != parent.fileno() != another.fileno()
            assert worker.getsockname() == another.getsockname() == ("127.0.0.1", port)
            worker.listen()
            another.listen()  # both listen: one port, two accept queues


@linux_only
def test_a_port_in_use_is_refused_not_shared() -> None:
    with socket.socket() as other:  # someone else's server, listening
        other.bind(("127.0.0.1", 0))
        other.listen()
        config = uvicorn.Config(asgi.FACTORY, host="127.0.0.1", port=other.getsockname()[1])
        with pytest.raises(OSError):
            asgi.listening_socket(config)
        # Even one that set SO_REUSEPORT itself: joining it would take half its connections.
        with socket.socket() as shared:
            shared.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            shared.bind(("127.0.0.1", 0))
            shared.listen()
            config.port = shared.getsockname()[1]
            with pytest.raises(OSError):
                asgi.listening_socket(config)


def test_serve_says_why_it_cannot_listen(env: dict[str, str]) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = str(other.getsockname()[1])
        result = runner.invoke(app, ["serve", "--workers", "2", "--port", port], env=env)
    assert result.exit_code != 0
    assert f"cannot listen on 127.0.0.1:{port}" in str(result.exception or result.output)


@contextlib.contextmanager
def two_workers(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    """`serve --workers 2` for real, on a free port, once both workers listen."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTCHECK_")}
    env |= {
        "FACTCHECK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'w.db'}",
        "FACTCHECK_SEED_DIR": "",
        "FACTCHECK_RATE_LIMIT_PER_MINUTE": "0",
    }
    command = [sys.executable, "-m", "service", "serve", "--workers", "2", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(command, env=env, cwd=tmp_path, stdout=sink, stderr=sink)
    try:
        _wait_until_serving(port, server, log)
        yield server, port
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def spread(server: subprocess.Popen, port: int, connections: int = 60) -> dict[int, int]:
    """Connections per worker pid, of `connections` opened one after another and held."""
    held: list[socket.socket] = []
    try:
        for _ in range(connections):
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            held.append(conn)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            assert conn.recv(100).startswith(b"HTTP/1.1 200")
        counts = {pid: _connections_to(port, pid) for pid in _children(server.pid)}
        assert sum(counts.values()) == connections, counts
        return {pid: n for pid, n in counts.items() if n}
    finally:
        for conn in held:
            conn.close()


@linux_only
def test_two_real_workers_share_a_burst_of_new_connections(tmp_path: Path) -> None:
    """60 connections from one client land on both workers (a shared socket tends to hand
    them all to the worker that last went idle: 0 and 60)."""
    with two_workers(tmp_path) as (server, port):
        per_worker = sorted(spread(server, port).values())
        assert len(per_worker) == 2 and per_worker[0] >= 15, per_worker


@linux_only
def test_a_killed_worker_is_replaced_by_one_with_its_own_socket(tmp_path: Path) -> None:
    """uvicorn's supervisor starts a new worker; it binds a socket of its own again (the
    parent's socket is handed over as its address once more), and takes its share."""
    with two_workers(tmp_path) as (server, port):
        victim = max(spread(server, port).items(), key=lambda item: item[1])[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if victim not in _children(server.pid) and _listening(port) == 2:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("no replacement worker listened within 60 s")
        per_worker = spread(server, port)
        assert victim not in per_worker
        assert len(per_worker) == 2 and min(per_worker.values()) >= 15, per_worker


def _wait_until_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    """Until both workers listen: the kernel only spreads over sockets that do, and a worker
    that is still importing the app would leave every connection to the other."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text(errors="replace")
        if _listening(port) == 2:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return
        time.sleep(0.2)
    raise AssertionError("serve --workers 2 did not listen twice within 60 s")


def _listening(port: int) -> int:
    """Sockets in LISTEN state (0A) on the port, machine-wide."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1 for r in rows if int(r.split()[1].rsplit(":", 1)[1], 16) == port and r.split()[3] == "0A"
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _connections_to(port: int, pid: int) -> int:
    """Established TCP connections on local `port` that process `pid` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
            count += 1
    return count
