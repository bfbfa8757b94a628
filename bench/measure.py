"""Measuring helpers shared by the benchmarks: percentiles in milliseconds, machine facts,
gunicorn on loopback and a keep-alive HTTP client for it."""

from __future__ import annotations

import http.client
import io
import math
import os
import platform
import pstats
import shutil
import socket
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from importlib import metadata
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH = Path(__file__).resolve().parent


def percentile(samples: list[int], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def stats_ms(samples: list[int]) -> dict:
    return {"n": len(samples), **{f"p{p}": percentile(samples, p) / 1e6 for p in (50, 90, 99)},
            "max": max(samples) / 1e6, "mean": sum(samples) / len(samples) / 1e6}


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def filesystem_of(path: Path) -> str:
    best, kind = "", "?"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _dev, mount, fstype, *_ = line.split()
            if str(path).startswith(mount) and len(mount) > len(best):
                best, kind = mount, fstype
    except OSError:
        pass
    return kind


def print_profile(profiler, repo: Path, *, top: int, own: int) -> None:
    """The profile's top functions by own time, then the guide's own code by cumulative time."""
    for title, order, restriction in ((f"top {top} functions by own time", "tottime", (top,)),
                                      ("the guide's own code by cumulative time", "cumulative", (r"/guide/", own))):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(*restriction)
        text = out.getvalue()
        text = text[text.find("   ncalls"):] if "   ncalls" in text else text
        text = text.replace(str(repo) + "/", "").replace(str(Path(sys.prefix)) + "/", "")
        print(f"\n-- {title} --")
        print(text.rstrip())


# --------------------------------------------------------------------------- serving on loopback

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(factory: str, env: dict, *, workers: int = 1, threads: int = 1,
                   keep_alive: int = 5, replace_env: bool = False) -> tuple[subprocess.Popen, int]:
    """Serve `factory` (run from bench/) with gthread workers on 127.0.0.1 at a free port.

    The environment is os.environ plus `env`, or `env` alone with replace_env.
    """
    port = free_port()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or shutil.which("gunicorn")
    command = [gunicorn] if gunicorn else [sys.executable, "-m", "gunicorn"]
    # No control socket: gunicorn 27 puts it at one fixed path, which two servers would fight over.
    command += ["--no-control-socket", "-w", str(workers), "-k", "gthread", "--threads", str(threads), "--keep-alive", str(keep_alive),
                "-b", f"127.0.0.1:{port}", "--chdir", str(BENCH), "--log-level", "warning", factory]
    proc = subprocess.Popen(command, env=dict(env) if replace_env else {**os.environ, **env},
                            stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn {factory} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"gunicorn {factory} did not start on port {port}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def process_cpu_seconds(pid: int, *, children: bool = True) -> float:
    """User + system CPU seconds of a live process (and, by default, of its live children), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pids = 0.0, [pid]
    if children:
        try:
            for task in Path(f"/proc/{pid}/task").iterdir():
                pids += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def machine_busy_seconds() -> float:
    """CPU seconds every process on the machine has used since boot (all CPUs), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    except (OSError, ValueError):
        return float("nan")
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class OverHttp:
    """http.client on one keep-alive connection to 127.0.0.1, keeping cookies itself."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.connections = 0

    def _request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            if self.conn.sock is None:
                self.connections += 1
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: open a new one, once.
                self.conn.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response, data

    def post(self, path: str, form: dict | list) -> tuple[int, str | None]:
        response, _ = self._request("POST", path, urlencode(form).encode(),
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        location = response.headers.get("Location")
        if location and location.startswith("http"):
            location = urlsplit(location)._replace(scheme="", netloc="").geturl()
        return response.status, location

    def get(self, path: str) -> tuple[int, str]:
        response, data = self._request("GET", path)
        return response.status, data.decode()

    def close(self):
        self.conn.close()
