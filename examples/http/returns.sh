#!/usr/bin/env bash
# Shipping line by line and a return with one damaged unit: an order of 3
# books ships 2 then 1 (PARTIALLY_SHIPPED, then SHIPPED) and is delivered;
# the customer returns 2; they arrive (on hand, QUARANTINED); the inspection
# restocks one and sets one aside DAMAGED, and both are refunded; returning
# more than was delivered, or receiving the return twice, is refused.
#
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/returns.sh
# shellcheck source=examples/http/lib.sh
source "$(dirname "$0")/lib.sh"

BOOK="BOOK-$RUN_ID"

step "receive 5 books at 39900 into lot L-1"
ok inventory receive "$BOOK" --qty 5 --price 39900 --lot L-1

step "a customer orders 3 books and pays"
ok customer create "Nila Rao $RUN_ID" --field customerId
CUSTOMER=$OUT
ok order create --customer "$CUSTOMER" --item "$BOOK:3" "${SHIP_TO[@]}" \
  --field id
ORDER=$OUT
ok order pay "$ORDER" --amount due --field status
check "status" "$OUT" PAID

step "2 books ship first, with tracking; the third stays blocked"
ok order ship-lines "$ORDER" --line "$BOOK:2" --carrier BlueDart \
  --tracking BD1001 --key "ship-$RUN_ID"
check "status" "$(get status order show "$ORDER")" PARTIALLY_SHIPPED
check "books on hand" "$(get onHand inventory show "$BOOK")" 3
check "books blocked" "$(get blocked inventory show "$BOOK")" 1

step "the last book ships; the order is SHIPPED, then DELIVERED"
ok order ship-lines "$ORDER" --line "$BOOK:1" --field status
check "status" "$OUT" SHIPPED
ok order deliver "$ORDER" --field status
check "status" "$OUT" DELIVERED

step "the customer asks to return 2 books"
ok order return "$ORDER" --line "$BOOK:2" --reason "cover torn" \
  --key "rma-$RUN_ID" --field id --field status
{ read -r RETURN; read -r STATUS; } <<<"$OUT"
check "return" "$RETURN" ret_1
check "status" "$STATUS" REQUESTED

step "returning more than was delivered is refused"
fails VALIDATION_FAILED order return "$ORDER" --line "$BOOK:2"

step "the books arrive: on hand, set aside QUARANTINED"
ok order return-receive "$ORDER" "$RETURN" --field status
check "status" "$OUT" RECEIVED
check "books on hand" "$(get onHand inventory show "$BOOK")" 4
check "books quarantined" \
  "$(get unallocatableByReason.QUARANTINED inventory show "$BOOK")" 2
fails INVALID_TRANSITION order return-receive "$ORDER" "$RETURN"

step "inspection: one back to sale, one damaged; both are refunded"
ok order return-inspect "$ORDER" "$RETURN" --restock "$BOOK:1" \
  --damaged "$BOOK:1" --field status --field refundAmount
check "status and refund" "$(paste -sd ' ' <<<"$OUT")" "REFUNDED 79800"
check "refunded" "$(get refundedAmount order show "$ORDER")" 79800
check "books available" "$(get available inventory show "$BOOK")" 3
check "books damaged" \
  "$(get unallocatableByReason.DAMAGED inventory show "$BOOK")" 1
ok order show "$ORDER"

step "the stock still adds up"
ok audit

finish
