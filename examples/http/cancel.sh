#!/usr/bin/env bash
# Cancelling: part of a paid order is cancelled (its units go back to stock,
# its price is refunded, the rest of the order stays PAID); then the rest is
# cancelled; an unpaid order is cancelled whole with updateOrder
# (set-status CANCELLED) and its reserved units are released; cancelling
# twice, or too much, is refused.
#
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/cancel.sh
# shellcheck source=examples/http/lib.sh
source "$(dirname "$0")/lib.sh"

MUG="MUG-$RUN_ID"
LAMP="LAMP-$RUN_ID"

step "receive stock: 10 mugs at 1000, 5 lamps at 20000"
ok inventory receive "$MUG" --qty 10 --price 1000
ok inventory receive "$LAMP" --qty 5 --price 20000

step "a customer orders 4 mugs and 1 lamp, confirms and pays"
ok customer create "Kabir Shah $RUN_ID" --field customerId
CUSTOMER=$OUT
ok order create --customer "$CUSTOMER" --item "$MUG:4" --item "$LAMP:1" \
  "${SHIP_TO[@]}" --field id --field totalAmount
{ read -r ORDER; read -r TOTAL; } <<<"$OUT"
check "total (4 x 1000 + 20000)" "$TOTAL" 24000
ok order confirm "$ORDER" --field status
ok order pay "$ORDER" --amount due --field status
check "status" "$OUT" PAID
check "mugs blocked" "$(get blocked inventory show "$MUG")" 4
check "mugs available" "$(get available inventory show "$MUG")" 6

step "cancel 3 of the 4 mugs: they are refunded, the order stays PAID"
ok order cancel "$ORDER" --line "$MUG:3" --reason "ordered too many"
check "status" "$(get status order show "$ORDER")" PAID
check "refunded (3 x 1000)" "$(get refundedAmount order show "$ORDER")" 3000
check "total now" "$(get totalAmount order show "$ORDER")" 21000
check "mugs cancelled on the line" \
  "$(get lines.0.cancelledQuantity order show "$ORDER")" 3

step "the 3 mugs are back in stock"
ok inventory show "$MUG"
check "mugs blocked" "$(get blocked inventory show "$MUG")" 1
check "mugs available" "$(get available inventory show "$MUG")" 9

step "cancelling more mugs than the order still holds is refused"
fails VALIDATION_FAILED order cancel "$ORDER" --line "$MUG:2"

step "cancel the rest of the order: everything is refunded and released"
ok order cancel "$ORDER" --reason "changed my mind" --field status \
  --field refundedAmount
{ read -r STATUS; read -r REFUNDED; } <<<"$OUT"
check "status" "$STATUS" CANCELLED
check "refunded" "$REFUNDED" "$TOTAL"
check "mugs available" "$(get available inventory show "$MUG")" 10
check "lamps available" "$(get available inventory show "$LAMP")" 5
ok order show "$ORDER"

step "a cancelled order cannot be cancelled again, nor shipped"
fails INVALID_TRANSITION order cancel "$ORDER"
fails INVALID_TRANSITION order ship "$ORDER"

step "an unpaid order reserves 2 lamps"
ok order create --customer "$CUSTOMER" --item "$LAMP:2" "${SHIP_TO[@]}" \
  --field id
ORDER2=$OUT
check "lamps reserved" "$(get reserved inventory show "$LAMP")" 2
check "lamps available" "$(get available inventory show "$LAMP")" 3

step "updateOrder(CANCELLED) releases the reservation; nothing was charged"
ok order set-status "$ORDER2" CANCELLED --reason "found it cheaper" \
  --field status --field refundedAmount
check "status and refund" "$(paste -sd ' ' <<<"$OUT")" "CANCELLED 0"
check "lamps reserved" "$(get reserved inventory show "$LAMP")" 0
check "lamps available" "$(get available inventory show "$LAMP")" 5

step "the stock still adds up"
ok audit

finish
