#!/usr/bin/env bash
# What `make test` costs: wall seconds and CPU seconds (user + sys, reaped children included), part by part and in
# all, plus the CPU each test file costs (bench/pytest_cpu.py). On a shared machine compare CPU seconds; wall on an
# idle 2-core machine is about max(longest part, total CPU / 2).
#
#   .ci/run bench/suite_times.sh [whole|parts|both]   # as CI runs it (with a Redis for the replica tests)
#
# whole (default): one `make test`, its parts running concurrently, each part's command timed where it runs;
# parts: each part alone, one after the other. Outputs go to $OUT (default: a fresh directory under /tmp).
set -uo pipefail
cd "$(dirname "$0")/.."
what="${1:-whole}"
OUT="${OUT:-$(mktemp -d /tmp/oneapi-mcp-suite-times-XXXXXX)}"
mkdir -p "$OUT"
failed=0
export PYTHONPATH=bench PYTEST_ADDOPTS="-p pytest_cpu --durations=30"

row() { awk -v name="$1" '{ printf "%-22s %8.1f %8.1f\n", name, $1, $2 + $3 }'; }

timed() {  # timed NAME COMMAND...: run it alone, keep its output, print one row
    local name="$1"; shift
    ONEAPI_MCP_TEST_CPU_DIR="$OUT/cpu-$name" /usr/bin/time -f "%e %U %S" -o "$OUT/$name.time" "$@" \
        >"$OUT/$name.out" 2>&1 || { failed=1; echo "$name failed: $OUT/$name.out" >&2; }
    tail -1 "$OUT/$name.time" | row "$name"
}

printf "%-22s %8s %8s\n" part "wall s" "cpu s"
if [ "$what" != whole ]; then
    echo "-- each alone"
    timed ruff .venv/bin/ruff check codegen oneapi_mcp plugins tests bench examples
    timed mypy .venv/bin/mypy
    timed check-generated make --no-print-directory check-generated
    timed fidelity make --no-print-directory fidelity
    timed test-tests make --no-print-directory test-tests
    timed test-contract make --no-print-directory test-contract
fi
if [ "$what" != parts ]; then
    echo "-- make test (parts concurrently)"
    : >"$OUT/parts.time"
    timed "make test" make --no-print-directory test TIMED="/usr/bin/time -a -o $OUT/parts.time -f '%e %U %S %C'"
    # one row per timed command, named by what it runs
    while read -r wall user sys cmd; do
        case "$cmd" in
            *ruff*) name=ruff ;; *mypy*) name=mypy ;; *"codegen check"*) name=check-generated ;;
            *_fidelity*) name=fidelity ;; *"no:xdist tests/test_contract_mock.py") name=test-contract ;;
            *pytest*) name=test-tests ;;
            *) name="${cmd:0:22}" ;;
        esac
        echo "$wall $user $sys" | row "  $name"
    done < <(grep -v "^Command" "$OUT/parts.time")
fi
for dir in "$OUT"/cpu-*; do
    [ -d "$dir" ] || continue
    echo; echo "CPU per test file (${dir##*/cpu-}):"; .venv/bin/python bench/pytest_cpu.py "$dir" 25
done
echo "(outputs in $OUT)"
exit $failed
