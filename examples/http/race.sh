#!/usr/bin/env bash
# Customers race for the last unit of a SKU: their orders are sent at the same
# moment, exactly one gets the unit and every other is refused with
# INSUFFICIENT_STOCK; the stock never goes below zero.
#
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/race.sh
#   RACERS=10 examples/http/race.sh      # more customers for the same unit
# shellcheck source=examples/http/lib.sh
source "$(dirname "$0")/lib.sh"

RACERS=${RACERS:-2}
if ! [[ "$RACERS" =~ ^[0-9]+$ ]] || [ "$RACERS" -lt 2 ] ||
  [ "$RACERS" -gt 100 ]; then
  fail "RACERS must be between 2 and 100"
fi
SKU="LAST-ONE-$RUN_ID"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK" "$ERR_FILE"' EXIT

step "receive exactly one unit"
ok inventory receive "$SKU" --qty 1 --price 49900
check "available" "$(get available inventory show "$SKU")" 1

step "create $RACERS customers, each with their own token"
for i in $(seq 1 "$RACERS"); do
  ok customer create "Racer $i $RUN_ID" --field customerId --field token
  { read -r id; read -r token; } <<<"$OUT"
  echo "$id" >"$WORK/customer.$i"
  echo "$token" >"$WORK/token.$i"
done

step "every customer orders the last unit at the same moment"
# Each racer waits for the start file, so the orders leave together.
for i in $(seq 1 "$RACERS"); do
  (
    while [ ! -e "$WORK/start" ]; do sleep 0.01; done
    rc=0
    "$OMSCTL" --token-file "$WORK/token.$i" order create --item "$SKU:1" \
      "${SHIP_TO[@]}" --field id >"$WORK/out.$i" 2>"$WORK/err.$i" || rc=$?
    echo "$rc" >"$WORK/rc.$i"
  ) &
done
show_cmd --token-file 'TOKEN_OF_EACH' order create --item "$SKU:1" \
  "${SHIP_TO[@]}" --field id
echo "    ($RACERS at once)"
touch "$WORK/start"
wait

winners=0
losers=0
for i in $(seq 1 "$RACERS"); do
  rc=$(cat "$WORK/rc.$i")
  if [ "$rc" -eq 0 ]; then
    winners=$((winners + 1))
    WINNER_ORDER=$(cat "$WORK/out.$i")
    echo "    racer $i: got the unit, order $WINNER_ORDER"
  elif grep -q '^error: INSUFFICIENT_STOCK:' "$WORK/err.$i"; then
    losers=$((losers + 1))
    echo "    racer $i: $(head -n 1 "$WORK/err.$i")"
    sed -n '2,$p' "$WORK/err.$i" | indent
  else
    echo "    racer $i: exit $rc: $(cat "$WORK/err.$i")"
  fi
done
check "customers who got the unit" "$winners" 1
check "customers refused with INSUFFICIENT_STOCK" "$losers" $((RACERS - 1))

step "the unit is reserved for the winner; nothing is left"
ok inventory show "$SKU"
check "reserved" "$(get reserved inventory show "$SKU")" 1
check "available" "$(get available inventory show "$SKU")" 0

step "one more order is refused at once"
fails INSUFFICIENT_STOCK order create --customer "$(cat "$WORK/customer.1")" \
  --item "$SKU:1" "${SHIP_TO[@]}"

step "the winning order"
ok order show "$WINNER_ORDER"

step "the stock still adds up"
ok audit

finish
