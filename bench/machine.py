"""The machine the figures come from: CPU model, cores, memory, Python, operating system."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def describe() -> list[tuple[str, str]]:
    return [
        ("CPU", cpu_model()),
        ("Cores available", str(len(os.sched_getaffinity(0)))),
        ("Memory", memory_gib()),
        ("Python", f"{platform.python_implementation()} {sys.version.split()[0]}"),
        ("SQLite", __import__("sqlite3").sqlite_version),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Load average at start (1/5/15 min)", load_average()),
    ]
