#!/usr/bin/env bash
# What `make test` costs, part by part: wall seconds and CPU seconds (user + sys, reaped children included) of each
# part run alone, then of the whole `make test`, plus the CPU each test file costs (bench/pytest_cpu.py). On a
# shared machine compare CPU seconds; wall on an idle 2-core machine is about max(longest part, total CPU / 2).
#
#   .ci/run bench/suite_times.sh           # as CI runs it (a Redis for the replica tests); `parts` or `whole` only
#   bench/suite_times.sh [parts|whole|both]
#
# Figures go to $OUT (default: a fresh directory under /tmp) and the table to stdout.
set -uo pipefail
cd "$(dirname "$0")/.."
what="${1:-both}"
OUT="${OUT:-$(mktemp -d /tmp/oneapi-mcp-suite-times-XXXXXX)}"
mkdir -p "$OUT"
failed=0

timed() {  # timed NAME COMMAND...: run, keep the output, and print one row
    local name="$1"; shift
    /usr/bin/time -f "%e %U %S" -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>&1 || { failed=1; echo "$name failed: $OUT/$name.out" >&2; }
    tail -1 "$OUT/$name.time" | awk -v name="$name" '{ printf "%-16s %8.1f %8.1f\n", name, $1, $2 + $3 }'
}

printf "%-16s %8s %8s\n" part "wall s" "cpu s"
if [ "$what" != whole ]; then
    timed ruff .venv/bin/ruff check codegen oneapi_mcp plugins tests bench examples
    timed mypy .venv/bin/mypy
    timed check-generated make --no-print-directory check-generated
    timed fidelity make --no-print-directory fidelity
    PYTHONPATH=bench ONEAPI_MCP_TEST_CPU_DIR="$OUT/cpu-tests" PYTEST_ADDOPTS="-p pytest_cpu --durations=30" \
        timed test-tests make --no-print-directory test-tests
    PYTHONPATH=bench ONEAPI_MCP_TEST_CPU_DIR="$OUT/cpu-contract" PYTEST_ADDOPTS="-p pytest_cpu --durations=10" \
        timed test-contract make --no-print-directory test-contract
fi
if [ "$what" != parts ]; then
    timed "make test" make --no-print-directory test
fi
if [ -d "$OUT/cpu-tests" ]; then
    echo; echo "CPU per test file (make test-tests):"; .venv/bin/python bench/pytest_cpu.py "$OUT/cpu-tests" 30
fi
echo "(outputs in $OUT)"
exit $failed
