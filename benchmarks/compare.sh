#!/usr/bin/env bash
# Direct PostgreSQL vs PgBouncer vs pgmux, alternating, with pgbench and the pgmux-bench harness; writes
# benchmarks/RESULTS.md (+ benchmarks/charts/*.svg) and keeps raw logs in benchmarks/results/<timestamp>/.
# In select-only-16, select-only-16-at-5000 and select1-latency a fourth target, the Netty relay
# (io.pgmux.load.ByteRelay: one PostgreSQL connection per client, bytes copied both ways), shows the floor under
# any Netty proxy: what Netty and the kernel cost before pgmux does any work of its own.
#   benchmarks/compare.sh                 # full run: 3 repetitions × 60 s per workload and target (~1.5 h)
#   benchmarks/compare.sh --quick         # 3 × 10 s (~25 min), a preliminary run
#   benchmarks/compare.sh --help          # every option
# Needs: a JDK 17, pgbouncer (apt-get install -y pgbouncer), taskset, jcmd/jfr. PostgreSQL and pgbench come from
# testkit's embedded binaries. Every process it starts is stopped on exit, failure or Ctrl-C.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

if [[ " $* " != *" --help "* ]]; then
  echo "compare: building pgmux and the harness ..." >&2
  ./mvnw -q -B -o -DskipTests -Dspotless.check.skip=true -pl proxy-core,benchmarks -am package >&2 \
    || ./mvnw -q -B -DskipTests -Dspotless.check.skip=true -pl proxy-core,benchmarks -am package >&2
fi

work="$here/benchmarks/results/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$work"
compare_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$compare_pid" ]] && kill -0 "$compare_pid" 2>/dev/null; then
    kill -TERM "$compare_pid" 2>/dev/null || true   # its shutdown hook stops what it started
    for _ in $(seq 1 60); do kill -0 "$compare_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$compare_pid" 2>/dev/null || true
  fi
  # Anything the comparison started and could not stop (it writes every PID it starts to $work/pids).
  if [[ -f "$work/pids" ]]; then
    while read -r pid; do
      if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        sleep 2
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done < "$work/pids"
  fi
  exit "$status"
}
trap cleanup EXIT INT TERM

java_bin="java"
[[ -n "${JAVA_HOME:-}" ]] && java_bin="$JAVA_HOME/bin/java"
# A copy, so that a rebuild during the run does not change the harness under it.
cp "$here/benchmarks/target/pgmux-bench.jar" "$work/pgmux-bench.jar"
"$java_bin" -cp "$work/pgmux-bench.jar" io.pgmux.load.Comparison --work "$work" "$@" &
compare_pid=$!
wait "$compare_pid"
