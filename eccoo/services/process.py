"""A background process that outlives the command that started it.

Each managed process has a folder with `pid` and `log`. Starting checks the ports it
needs first (a busy port is a clear `PortBusy`, not a crash in a log), then waits for
readiness. It never kills a process it did not start: the pid file is checked against
the command line recorded at start.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from eccoo.errors import PortBusy, ServiceFailed


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on host:port (we try to bind it ourselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts a TCP connection on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_free_ports(ports: Mapping[str, int], host: str = "127.0.0.1") -> None:
    """Raise `PortBusy` naming the first busy port and what it was meant for."""
    for purpose, port in ports.items():
        if not port_is_free(port, host):
            raise PortBusy(f"port {port} ({purpose}) is already in use on {host}", field=purpose)


# Ports handed out for services sit below the kernel's ephemeral range: a port from
# inside it can be taken, between a stop and a restart, by any outgoing connection.
_SERVICE_PORTS = range(10_000, 20_000)


def free_port() -> int:
    """A port that is free now and outside the ephemeral range (tests, ad-hoc stacks)."""
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.choice(_SERVICE_PORTS)
        if port_is_free(port):
            return port
    raise PortBusy(f"no free port in {_SERVICE_PORTS.start}-{_SERVICE_PORTS.stop - 1}")


def pid_alive(pid: int) -> bool:
    """True if `pid` runs; a killed but not yet reaped process (zombie) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); look at its state.
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/pid/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass
class ManagedProcess:
    """One named background process whose state lives in `state_dir`."""

    name: str
    state_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.name}.process.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid of our process if it is running, else None (stale files are ignored)."""
        try:
            record = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        pid = int(record.get("pid", 0))
        if pid <= 0 or not pid_alive(pid):
            return None
        # Guard against pid reuse: the process must have started when ours did (an exec,
        # like kc.sh becoming java, keeps the pid and its start time).
        if record.get("start_ticks") is not None and _start_ticks(pid) != record["start_ticks"]:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def start(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> int:
        """Start argv detached (own session), output appended to the log; returns the pid."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        existing = self.pid()
        if existing is not None:
            return existing
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=str(cwd) if cwd else None,
                start_new_session=True,
            )
        self._child = proc
        record = {
            "pid": proc.pid,
            "argv0": os.path.basename(argv[0]),
            "start_ticks": _start_ticks(proc.pid),
            "started": time.time(),
        }
        tmp = self.pid_file.with_name(self.pid_file.name + ".tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(self.pid_file)
        return proc.pid

    def wait_ready(
        self,
        ready: Callable[[], bool],
        *,
        timeout: float,
        what: str,
        interval: float = 0.25,
    ) -> None:
        """Poll `ready` until true; if the process dies or time runs out, raise with the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            child = getattr(self, "_child", None)
            exited = child.poll() is not None if child is not None else not self.running()
            if exited:
                raise ServiceFailed(f"{what} exited during start; last log lines:\n{self.tail()}")
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(interval)
        raise ServiceFailed(f"{what} was not ready after {timeout:.0f}s; see {self.log_file}")

    def stop(self, *, timeout: float = 30.0, sig: int = signal.SIGTERM) -> bool:
        """Stop the process group gracefully, then kill; True if something was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(pid):
            self._reap()
            time.sleep(0.1)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while pid_alive(pid):
                self._reap()
                time.sleep(0.05)
        self._reap()
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> bool:
        """SIGKILL at once (crash drills)."""
        return self.stop(timeout=0.0, sig=signal.SIGKILL)

    def _reap(self) -> None:
        child = getattr(self, "_child", None)
        if child is not None:
            with contextlib.suppress(Exception):
                child.poll()

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
