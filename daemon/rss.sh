#!/usr/bin/env bash
# RSS of `egressprobe daemon` with Microsoft's Public service-tag index loaded:
# idle (before its first cycle), while probing the public catalog every
# second (offline here: the probes fail fast at DNS against a closed loopback
# resolver, so the figure is the daemon's own, not the network's), and while
# probing 100 loopback targets every second. Linux.
#   bash daemon/rss.sh [ServiceTags_Public_*.json]   (default: ../shared/data/servicetags/)
set -euo pipefail
cd "$(dirname "$0")/.."
feed=${1:-$(ls ../shared/data/servicetags/ServiceTags_Public_*.json | tail -1)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/egressprobe" ./cmd/egressprobe
XDG_CACHE_HOME=$work/cache "$work/egressprobe" servicetags update --source "$feed" >/dev/null
rss() { awk '/VmRSS/ {print $2/1024}' "/proc/$1/status"; }
run() { # interval seconds-to-sample [targets line]
	cat >"$work/d.yaml" <<YAML
version: 1
schedule: {interval: $1}
cloud: public
${3:-}
resolvers: [127.0.0.1:9]
proxy: none
timeout: 2s
service_tags: {refresh: 0s, cache_dir: '$work/cache/egressprobe/servicetags'}
log: {file: '$work/probes.jsonl'}
metrics: {listen: 127.0.0.1:0}
YAML
	"$work/egressprobe" daemon --config "$work/d.yaml" 2>/dev/null &
	pid=$!
	# run is called in $(…), a subshell: its own trap stops the daemon it
	# started (by PID) if the sampling is interrupted.
	trap 'kill "$pid" 2>/dev/null || true' EXIT
	local peak=0
	for _ in $(seq "$2"); do
		sleep 1
		peak=$(rss "$pid" | awk -v p="$peak" '{print ($1 > p) ? $1 : p}')
	done
	echo "$peak"
	kill -TERM "$pid"; wait "$pid" || true
}
echo "feed: $feed"
echo "idle (interval 24h, before the first cycle): peak RSS $(run 24h 5) MB"
echo "probing the public catalog every 1s for 20 s: peak RSS $(run 1s 20) MB, $(grep -c '"type":"result"' "$work/probes.jsonl") results"
# 100 loopback targets on a closed port (tcp_refused: each a full probe, no server needed)
targets="targets: [$(for i in $(seq 1 100); do printf '"127.0.7.%d:9",' "$i"; done | sed 's/,$//')]"
rm -f "$work/probes.jsonl"
echo "probing 100 loopback targets every 1s for 20 s: peak RSS $(run 1s 20 "$targets") MB, $(grep -c '"type":"result"' "$work/probes.jsonl") results"
echo "feed in use: $(grep -o '"change_number":[0-9]*' "$work/probes.jsonl" | head -1)"
