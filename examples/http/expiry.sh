#!/usr/bin/env bash
# An order that is not confirmed in time is cancelled by omsd itself and its
# reserved units go back to stock. Needs omsd started with a short hold, e.g.
# --hold-ttl 2s; the script polls the order until a deadline derived from its
# holdExpiresAt instead of sleeping for a guessed time.
#
#   omsd ... --hold-ttl 2s &
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/expiry.sh
# shellcheck source=examples/http/lib.sh
source "$(dirname "$0")/lib.sh"

# How much later than holdExpiresAt the cancellation may show (timer and
# journal latency), and the longest hold this script is willing to wait for.
GRACE_MS=${GRACE_MS:-10000}
HOLD_MAX_MS=${HOLD_MAX_MS:-60000}
POLL_SECONDS=0.2

now_ms() { date +%s%3N; }

TICKET="TICKET-$RUN_ID"

step "receive 2 concert tickets"
ok inventory receive "$TICKET" --qty 2 --price 350000

step "a customer orders both and does not confirm"
ok customer create "Dev Patel $RUN_ID" --field customerId
CUSTOMER=$OUT
ok order create --customer "$CUSTOMER" --item "$TICKET:2" "${SHIP_TO[@]}" \
  --field id --field holdExpiresAt
{ read -r ORDER; read -r EXPIRES_AT; } <<<"$OUT"
EXPIRES_MS=$(date -d "$EXPIRES_AT" +%s%3N) ||
  fail "cannot read holdExpiresAt '$EXPIRES_AT' (needs GNU date)"
HOLD_MS=$((EXPIRES_MS - $(now_ms)))
echo "    the hold expires in about $((HOLD_MS / 1000)) s"
[ "$HOLD_MS" -le "$HOLD_MAX_MS" ] ||
  fail "the hold lasts $((HOLD_MS / 1000)) s; start omsd with --hold-ttl 2s" \
    "to run this scenario (or raise HOLD_MAX_MS)"

step "while the hold lasts, nobody else can have the tickets"
check "reserved" "$(get reserved inventory show "$TICKET")" 2
fails INSUFFICIENT_STOCK order create --customer "$CUSTOMER" \
  --item "$TICKET:1" "${SHIP_TO[@]}"

step "wait, polling the order, until omsd cancels it (deadline: hold + $((GRACE_MS / 1000)) s)"
DEADLINE_MS=$((EXPIRES_MS + GRACE_MS))
show_cmd --field status order show "$ORDER"
LAST=""
while :; do
  STATUS=$(get status order show "$ORDER")
  if [ "$STATUS" != "$LAST" ]; then
    echo "    $(date -u +%H:%M:%S.%3N) $STATUS"
    LAST=$STATUS
  fi
  [ "$STATUS" = CREATED ] || break
  [ "$(now_ms)" -lt "$DEADLINE_MS" ] ||
    fail "the order is still CREATED $((GRACE_MS / 1000)) s after its hold" \
      "expired"
  sleep "$POLL_SECONDS"
done
check "status" "$STATUS" CANCELLED
ok order show "$ORDER"

step "the tickets are back in stock"
check "reserved" "$(get reserved inventory show "$TICKET")" 0
check "available" "$(get available inventory show "$TICKET")" 2

step "confirming the expired order is refused"
fails ORDER_EXPIRED order confirm "$ORDER"

step "another order can now take the tickets, and is confirmed in time"
ok order create --customer "$CUSTOMER" --item "$TICKET:2" "${SHIP_TO[@]}" \
  --field id --field holdExpiresAt
{ read -r ORDER2; read -r EXPIRES2_AT; } <<<"$OUT"
ok order confirm "$ORDER2" --field status
check "status" "$OUT" CONFIRMED
check "blocked" "$(get blocked inventory show "$TICKET")" 2

step "a confirmed order outlives its hold"
# Waits until the hold it had is well past (GRACE_MS after it), polling.
UNTIL_MS=$(($(date -d "$EXPIRES2_AT" +%s%3N) + GRACE_MS / 4))
while [ "$(now_ms)" -lt "$UNTIL_MS" ]; do
  STATUS=$(get status order show "$ORDER2")
  [ "$STATUS" = CONFIRMED ] || break
  sleep "$POLL_SECONDS"
done
check "status after the hold time" "$(get status order show "$ORDER2")" \
  CONFIRMED

step "cancel it to leave the stock as found"
ok order cancel "$ORDER2" --reason "end of the demo" --field status
check "status" "$OUT" CANCELLED

step "the stock still adds up"
ok audit

finish
