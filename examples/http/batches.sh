#!/usr/bin/env bash
# Stock in batches: two lots of milk with different expiry dates are
# received, an order takes the one that expires first, damaged cartons leave
# sale and come back, a stock count corrects on-hand, and a goods receipt
# delivered twice is applied once.
#
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/batches.sh
# shellcheck source=examples/http/lib.sh
source "$(dirname "$0")/lib.sh"

MILK="MILK-$RUN_ID"
EARLY="L-EARLY-$RUN_ID"
LATE="L-LATE-$RUN_ID"
# RFC 3339 in UTC (GNU date).
EXPIRES_EARLY=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
EXPIRES_LATE=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)

step "receive 4 cartons expiring in 60 days, then 3 expiring in 30 days"
ok inventory receive "$MILK" --qty 4 --price 5600 --lot "$LATE" \
  --expires-at "$EXPIRES_LATE" --event-id "grn-$RUN_ID-1"
ok inventory receive "$MILK" --qty 3 --lot "$EARLY" \
  --expires-at "$EXPIRES_EARLY" --event-id "grn-$RUN_ID-2" --field outcome
check "outcome" "$OUT" APPLIED
ok inventory show "$MILK"
check "first batch (first to expire)" \
  "$(get batches.0.lot inventory show "$MILK")" "$EARLY"
check "on hand" "$(get onHand inventory show "$MILK")" 7

step "the warehouse sends the first goods receipt again: nothing changes"
ok inventory receive "$MILK" --qty 4 --price 5600 --lot "$LATE" \
  --expires-at "$EXPIRES_LATE" --event-id "grn-$RUN_ID-1" --field outcome
check "outcome" "$OUT" DUPLICATE
check "on hand" "$(get onHand inventory show "$MILK")" 7
check "received total" "$(get receivedTotal inventory show "$MILK")" 7

step "a customer orders 5: the 3 cartons that expire first, then 2 of the others"
ok customer create "Leela Iyer $RUN_ID" --field customerId
CUSTOMER=$OUT
ok order create --customer "$CUSTOMER" --item "$MILK:5" "${SHIP_TO[@]}" \
  --field id
ORDER=$OUT
ok order show "$ORDER"
check "first lot of the line" "$(get lines.0.lots.0.lot order show "$ORDER")" \
  "$EARLY"
check "units from it" "$(get lines.0.lots.0.quantity order show "$ORDER")" 3
check "second lot of the line" "$(get lines.0.lots.1.lot order show "$ORDER")" \
  "$LATE"
check "units from it" "$(get lines.0.lots.1.quantity order show "$ORDER")" 2
check "available" "$(get available inventory show "$MILK")" 2

step "a carton of the later lot is found crushed: it leaves sale as DAMAGED"
ok inventory change "$MILK" --kind SET_ASIDE --qty 1 --reason DAMAGED \
  --lot "$LATE" --note "crushed carton" --event-id "qc-$RUN_ID-1"
check "unallocatable" "$(get unallocatable inventory show "$MILK")" 1
check "DAMAGED" "$(get unallocatableByReason.DAMAGED inventory show "$MILK")" 1
check "available" "$(get available inventory show "$MILK")" 1
check "on hand (still in the warehouse)" "$(get onHand inventory show "$MILK")" 7
ok inventory show "$MILK"

step "the order's cartons are held: setting aside more than is free is refused"
fails INSUFFICIENT_STOCK inventory change "$MILK" --kind SET_ASIDE --qty 2 \
  --reason QUARANTINED --lot "$LATE"
fails VALIDATION_FAILED inventory change "$MILK" --kind SET_ASIDE --qty 1 \
  --reason DAMAGED
echo "    (a SKU with two batches needs --lot)"

step "inspection finds it sound after all: it returns to sale"
ok inventory change "$MILK" --kind RETURN_ASIDE --qty 1 --reason DAMAGED \
  --lot "$LATE"
check "unallocatable" "$(get unallocatable inventory show "$MILK")" 0
check "available" "$(get available inventory show "$MILK")" 2

step "a stock count finds one carton of the later lot missing"
ok inventory change "$MILK" --kind ADJUSTMENT --qty=-1 --lot "$LATE" \
  --note "cycle count"
check "on hand" "$(get onHand inventory show "$MILK")" 6
check "adjusted total" "$(get adjustedTotal inventory show "$MILK")" -1
check "available" "$(get available inventory show "$MILK")" 1

step "a change the stock refuses, sent with an event id: REJECTED, id used up"
fails INSUFFICIENT_STOCK inventory change "$MILK" --kind SET_ASIDE --qty 5 \
  --reason SAFETY_STOCK --lot "$LATE" --event-id "qc-$RUN_ID-2"
ok inventory change "$MILK" --kind SET_ASIDE --qty 5 --reason SAFETY_STOCK \
  --lot "$LATE" --event-id "qc-$RUN_ID-2" --field outcome
check "outcome of the redelivery" "$OUT" DUPLICATE
check "unallocatable" "$(get unallocatable inventory show "$MILK")" 0

step "a batch that has already expired is refused at the door"
fails VALIDATION_FAILED inventory receive "$MILK" --qty 1 \
  --lot "L-OLD-$RUN_ID" --expires-at "$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)"

step "cancel the order: its cartons go back to their batches"
ok order cancel "$ORDER" --reason "end of the demo" --field status
check "status" "$OUT" CANCELLED
check "available" "$(get available inventory show "$MILK")" 6
ok inventory show "$MILK"

step "the stock still adds up"
ok audit

finish
