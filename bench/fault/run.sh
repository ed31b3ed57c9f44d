#!/usr/bin/env bash
# The fault harness (docs/RELIABILITY.md): starts the cluster (scripts/cluster), then books through HAProxy while it
# kills a server process and then the database primary with SIGKILL, in a loop, and checks what survived.
#   bench/fault/run.sh [--duration 180] [--fault-interval 20] [--concurrency 4]
# Bounded: the load stops after --duration seconds (at most 1800), the drain after 3 more minutes. Loopback only.
# Not part of ./scripts/test (it takes minutes); bench/fault/smoke.sh is the short check.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
ensure_dotnet
ensure_radicale
ensure_smtp
"$ROOT/scripts/cluster" start >/dev/null
eval "$("$ROOT/scripts/cluster" env)"
export CLUSTER_URL CLUSTER_API_KEY CLUSTER_DB CLUSTER_MAILDIR CLUSTER_SCRIPT="$ROOT/scripts/cluster"
log "building the fault driver"
dotnet build "$ROOT/bench/Rendezvous.FaultDriver" -c Release -v quiet -nologo >"$STATE/cluster/fault-build.log" 2>&1 \
  || { tail -n 30 "$STATE/cluster/fault-build.log" >&2; die "build failed"; }
timeout 2400 dotnet "$ROOT/bench/Rendezvous.FaultDriver/bin/Release/net10.0/Rendezvous.FaultDriver.dll" "$@"
