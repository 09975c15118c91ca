"""A pytest plugin that writes the CPU seconds each test file costs, this process's and its reaped children's
(servers, pip, node), to $ONEAPI_MCP_TEST_CPU_DIR/<worker>.jsonl. Wall seconds on a shared machine say little;
CPU seconds compare across runs. Used by bench/suite_times.sh:

    ONEAPI_MCP_TEST_CPU_DIR=/tmp/cpu PYTHONPATH=bench .venv/bin/python -m pytest -p pytest_cpu -n auto ...
    .venv/bin/python bench/pytest_cpu.py /tmp/cpu      # the table, costliest file first
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _Recorder:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.started = _cpu()

    def _write(self, record: dict) -> None:
        with self.out.open("a") as f:
            f.write(json.dumps(record) + "\n")

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._write({"file": "(start-up and collection)", "cpu": _cpu() - self.started, "wall": 0.0})

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None):
        cpu, wall = _cpu(), time.perf_counter()
        yield
        self._write({"file": item.nodeid.split("::")[0], "cpu": _cpu() - cpu, "wall": time.perf_counter() - wall})


def pytest_configure(config: pytest.Config) -> None:
    where = os.environ.get("ONEAPI_MCP_TEST_CPU_DIR")
    if not where:
        return
    worker = getattr(config, "workerinput", {}).get("workerid", f"main-{os.getpid()}")
    Path(where).mkdir(parents=True, exist_ok=True)
    config.pluginmanager.register(_Recorder(Path(where) / f"{worker}.jsonl"), "oneapi-mcp-cpu-recorder")


def summarize(where: Path, top: int = 40) -> str:
    cpu: dict[str, float] = defaultdict(float)
    wall: dict[str, float] = defaultdict(float)
    for path in sorted(where.glob("*.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            cpu[record["file"]] += record["cpu"]
            wall[record["file"]] += record["wall"]
    rows = sorted(cpu, key=cpu.get, reverse=True)
    lines = [f"{'file':<60} {'cpu s':>8} {'wall s':>8}"]
    lines += [f"{name:<60} {cpu[name]:8.1f} {wall[name]:8.1f}" for name in rows[:top]]
    lines.append(f"{'total (' + str(len(rows)) + ' files)':<60} {sum(cpu.values()):8.1f} {sum(wall.values()):8.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarize(Path(sys.argv[1]), *(int(a) for a in sys.argv[2:3])))
