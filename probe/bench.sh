#!/usr/bin/env bash
# Reproduces the figures in README "Performance": the engine against a minimal
# DNS+TCP+TLS loop on 1,000 loopback TLS endpoints, and the overlap of probes
# when every server delays its handshake. The servers run in a child process
# (the test binary re-executed), so the CPU figures are the client's alone.
#
#   probe/bench.sh                      # the figures, 3 rounds of 1,000 probes each
#   BENCHTIME=10x COUNT=3 probe/bench.sh
#   probe/bench.sh -cpuprofile /tmp/cpu.prof -bench 'Probe1000/engine'   # then: go tool pprof -top probe.test /tmp/cpu.prof
#
# Figures: probes/s, cpu-ms/probe (getrusage, user+system), cpu-x-baseline
# (engine CPU per probe / baseline's, measured in the same run), and for the
# overlap benchmark wall-ms against ideal-ms = ceil(N/concurrency) x delay and
# serial-ms = N x delay.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true # 2,000 loopback listeners and their connections
exec go test ./probe/ -run '^$' -bench 'BenchmarkProbe1000|BenchmarkOverlap' \
	-benchtime="${BENCHTIME:-3x}" -count="${COUNT:-1}" "$@"
