"""Measuring helpers shared by the benchmarks: percentiles in milliseconds, machine facts."""

from __future__ import annotations

import io
import math
import platform
import pstats
import sys
from importlib import metadata
from pathlib import Path


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
