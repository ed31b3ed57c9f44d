#!/usr/bin/env bash
# A short check of the cluster (docs/RELIABILITY.md): start it, book once through HAProxy, kill the database primary,
# book again (the server retries until the standby is promoted), and bring the old primary back as a standby.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
"$ROOT/scripts/cluster" start >/dev/null
eval "$("$ROOT/scripts/cluster" env)"
auth=(-H "Authorization: Bearer $CLUSTER_API_KEY" -H 'Content-Type: application/json')
run=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
host=$(curl -sf "${auth[@]}" -d "{\"name\":\"Smoke host\",\"email\":\"smoke-$run@cluster.example\",\"timeZone\":\"UTC\",\"role\":\"member\"}" \
  "$CLUSTER_URL/api/v1/users" | sed -E 's/.*"id":"([^"]+)".*/\1/')
curl -sf "${auth[@]}" -o /dev/null -d "{\"slug\":\"smoke-$run\",\"ownerId\":\"$host\",\"title\":\"Smoke\",\"durationMinutes\":15,\"timeZone\":\"UTC\",\"weeklyHours\":[$(
  for d in monday tuesday wednesday thursday friday saturday sunday; do printf '{"day":"%s","start":"00:00","end":"24:00"},' $d; done | sed 's/,$//')]}" \
  "$CLUSTER_URL/api/v1/booking-pages"
book() {
  local start="$1" key; key="smoke-$run-$start"
  # The same Idempotency-Key on every try: HAProxy or the client may resend a request whose answer was lost.
  local i code
  for i in $(seq 1 60); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 90 -H 'Content-Type: application/json' -H "Idempotency-Key: $key" \
      -d "{\"start\":\"$start\",\"customer\":{\"name\":\"Smoke\",\"email\":\"smoke-$run@customers.example\"}}" \
      "$CLUSTER_URL/api/v1/booking-pages/smoke-$run/bookings" || true)
    [ "$code" = 201 ] && return 0
    sleep 1
  done
  die "booking $start was not acknowledged (last status $code)"
}
day=$(date -u -d '+2 days' +%F)
book "${day}T10:00:00Z"; echo "booked before the failover"
"$ROOT/scripts/cluster" kill-primary
t0=$(date +%s)
book "${day}T11:00:00Z"; echo "booked after the failover ($(( $(date +%s) - t0 )) s after the kill)"
"$ROOT/scripts/cluster" start >/dev/null
"$ROOT/scripts/cluster" status
echo "cluster smoke: ok"
