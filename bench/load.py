"""Concurrent load for bench/pages.py: gunicorn with the production settings, and wrk.

Everything stays on this machine: gunicorn binds to 127.0.0.1 only, wrk runs for a
fixed number of seconds against that address, and the server is stopped by its
process id when the measurement ends, whatever happened.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOG = ROOT / "bench" / "out" / "gunicorn.log"
HOST = "127.0.0.1"

# wrk prints its own summary without a 95th percentile; this script's done()
# prints one machine-readable line with everything the report needs (latencies
# in microseconds).
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("FAILWELL %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""
WRK_LINE = re.compile(r"^FAILWELL (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", re.M)


class LoadError(RuntimeError):
    """Something stopped the load phase; the message says what."""


@dataclass(frozen=True)
class LoadResult:
    label: str
    requests: int
    seconds: float
    status_errors: int  # 4xx and 5xx answers
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    load_average: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def production_environment(database_url: str) -> dict[str, str]:
    """The variables a deployment sets, for a server that only this machine reaches."""
    env = dict(os.environ)
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key-not-for-any-deployment",
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "DATABASE_URL": database_url,
        }
    )
    # Page views queue no tasks; without a broker nothing tries to reach one.
    env.pop("CELERY_BROKER_URL", None)
    return env


@contextmanager
def gunicorn(
    database_url: str, port: int, workers: int, threads: int, timeout: float = 60
) -> Iterator[subprocess.Popen]:
    """gunicorn serving failwell.wsgi on 127.0.0.1:port until the block ends."""
    LOG.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "failwell.wsgi",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        "gthread" if threads > 1 else "sync",
        "--graceful-timeout",
        "10",
    ]
    with LOG.open("w") as log:
        server = subprocess.Popen(
            command, cwd=ROOT, env=production_environment(database_url), stdout=log, stderr=log
        )
    try:
        wait_until_serving(server, port, timeout)
        yield server
    finally:
        stop(server, timeout=20)


def stop(process: subprocess.Popen, timeout: float) -> None:
    """Ask a server or worker to shut down (SIGTERM), and kill it if it has not in time."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_serving(server: subprocess.Popen, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LoadError(f"gunicorn exited with code {server.returncode}; see {LOG}")
        try:
            if get_status(port, "/healthz", {}) == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise LoadError(f"gunicorn did not answer /healthz within {timeout:.0f} s; see {LOG}")


def get_status(port: int, path: str, headers: dict[str, str]) -> int:
    """The status of one GET, without following redirects."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def wrk(
    label: str,
    port: int,
    path: str,
    headers: dict[str, str],
    seconds: int,
    connections: int,
    threads: int,
) -> LoadResult:
    """Run wrk for `seconds` against one page, after checking it answers 200."""
    if shutil.which("wrk") is None:
        raise LoadError("wrk is not installed: apt-get install -y wrk")
    status = get_status(port, path, headers)
    if status != 200:
        raise LoadError(f"{path} answered {status} before the load started; see {LOG}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
        command += ["-s", script.name]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        command.append(f"http://{HOST}:{port}{path}")
        load_average = os.getloadavg()[0]
        finished = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    finally:
        os.unlink(script.name)
    match = WRK_LINE.search(finished.stdout)
    if finished.returncode != 0 or match is None:
        raise LoadError(f"wrk failed ({finished.returncode}): {finished.stderr or finished.stdout}")
    requests, duration, status_errors, socket_errors, p50, p95, p99, longest = map(
        int, match.groups()
    )
    return LoadResult(
        label=label,
        requests=requests,
        seconds=duration / 1e6,
        status_errors=status_errors,
        socket_errors=socket_errors,
        p50_ms=p50 / 1000,
        p95_ms=p95 / 1000,
        p99_ms=p99 / 1000,
        max_ms=longest / 1000,
        load_average=load_average,
    )
