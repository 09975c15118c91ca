"""`make bench`: figures for the generator and the generated surface, printed with their targets.

Nothing here asserts; the machines are shared and noisy. Each figure is the median of a few runs.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _median_seconds(cmd: list[str], runs: int, cwd: Path = ROOT) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _python_seconds(code: str, runs: int = 3) -> float:
    """Median wall time of a fresh interpreter running `code`, minus a bare interpreter's start."""
    bare = _median_seconds([PY, "-c", "pass"], runs)
    return _median_seconds([PY, "-c", code], runs) - bare


def _row(label: str, value: str, target: str = "", ratio: float | None = None) -> None:
    ratio_text = f"{ratio:6.2f}x of target" if ratio is not None else ""
    print(f"  {label:<58} {value:>14}  {target:<14} {ratio_text}")


def bench_generate() -> None:
    print("generator (make generate)")
    with tempfile.TemporaryDirectory() as tmp:
        specs = Path(tmp) / "specs"
        shutil.copytree(ROOT / "specs", specs)
        out = Path(tmp) / "generated"
        cmd = [PY, "-m", "oneapi_mcp.codegen", "generate", "--specs", str(specs), "--out", str(out),
               "--toolsnaps", str(ROOT / "tests" / "__toolsnaps__")]
        full = []
        for _ in range(2):
            t = time.perf_counter()
            subprocess.run([*cmd, "--force"], check=True, capture_output=True)
            full.append(time.perf_counter() - t)
        full_s = statistics.median(full)
        _row("full generate, every service", f"{full_s:.1f} s", "< 60 s", full_s / 60)
        noop = _median_seconds(cmd, 3)
        _row("generate with no spec changed (skipped by hash)", f"{noop:.2f} s", "< 3 s", noop / 3)
        print("  per service:")
        for svc_dir in sorted(p for p in out.iterdir() if p.is_dir()):
            files = [p for p in svc_dir.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
            lines = sum(p.read_text().count("\n") for p in files)
            size = sum(p.stat().st_size for p in files)
            print(f"    {svc_dir.name:<5} {len(files):>3} files {lines:>8,} lines {size / 1e6:6.2f} MB")


def bench_surface() -> None:
    print("generated surface at start-up (fresh interpreter, minus bare python start)")
    list_all = ("from oneapi_mcp import load_catalog\nc = load_catalog()\n"
                "s = [c.input_schema(n) for n in c.tools]\n")
    t_list = _python_seconds(list_all)
    _row("list every generated tool with its input schema", f"{t_list * 1000:.0f} ms")
    t_names = _python_seconds("from oneapi_mcp import load_catalog\nload_catalog()\n")
    _row("load the definition tables only", f"{t_names * 1000:.0f} ms")
    t_models = _python_seconds(
        "import importlib\nfor s in ('zia','zpa','zdx','zcc','zid','ztw'):\n"
        "    importlib.import_module(f'oneapi_mcp.generated.{s}.models')\n", runs=2)
    _row("for comparison: import every service's models.py", f"{t_models * 1000:.0f} ms", "",
         None)
    print(f"  {'listing costs':<58} {t_list / t_models:>13.2f}x of importing all models")
    t_one = _python_seconds(
        "from oneapi_mcp import load_catalog\nc = load_catalog()\nc.input_model('zia_list_users')\n") - t_names
    t_zia = _python_seconds("import oneapi_mcp.generated.zia.models\n", runs=2)
    _row("first call into ZIA: import the users toolset's input models", f"{t_one * 1000:.0f} ms")
    _row("for comparison: import ZIA's whole models.py", f"{t_zia * 1000:.0f} ms")

    sizes = []
    for schemas_json in sorted((ROOT / "generated").glob("*/schemas.json")):
        for name, schema in json.loads(schemas_json.read_text())["schemas"].items():
            sizes.append((len(json.dumps(schema, separators=(",", ":"))), name))
    total = sum(s for s, _ in sizes)
    biggest = max(sizes)
    print("input schemas (compact JSON)")
    _row("every generated tool", f"{total / 1e6:.2f} MB", f"~{total // 4:,} tokens")
    _row("mean per tool", f"{statistics.mean(s for s, _ in sizes) / 1e3:.2f} KB")
    _row(f"largest ({biggest[1]})", f"{biggest[0] / 1e3:.1f} KB")


def main() -> int:
    bench_generate()
    bench_surface()
    sys.path.insert(0, str(ROOT / "bench"))
    import server_bench

    server_bench.main()
    import policy_bench

    policy_bench.main()
    import replica_bench

    replica_bench.main()
    import redact_bench

    redact_bench.main()
    import search_bench

    search_bench.bench_search()
    import size_bench

    size_bench.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
