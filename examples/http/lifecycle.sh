#!/usr/bin/env bash
# One order's whole life over HTTP: stock is received, a customer orders, the
# order is confirmed (reserved units become blocked), paid, shipped (units
# leave the stock) and delivered; steps out of order are refused.
#
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/lifecycle.sh
# shellcheck source=examples/http/lib.sh
source "$(dirname "$0")/lib.sh"

PHONE="PHONE-$RUN_ID"
CASE="CASE-$RUN_ID"

step "omsd is up and ready"
ok health

step "receive stock: 5 phones at 99800 (998.00 INR) and 10 cases at 1500"
ok inventory receive "$PHONE" --qty 5 --price 99800
ok inventory receive "$CASE" --qty 10 --price 1500

step "create a customer"
ok customer create "Asha Rao $RUN_ID" --field customerId
CUSTOMER=$OUT

step "order 1 phone and 2 cases, then confirm it at once (the hold may be short)"
ok order create --customer "$CUSTOMER" --item "$PHONE:1" --item "$CASE:2" \
  "${SHIP_TO[@]}" --field id --field totalAmount --field status
{ read -r ORDER; read -r TOTAL; read -r STATUS; } <<<"$OUT"
check "status" "$STATUS" CREATED
check "total (99800 + 2 x 1500)" "$TOTAL" 102800
ok order confirm "$ORDER" --field status
check "status" "$OUT" CONFIRMED

step "the confirmed order blocks its phone: 4 of 5 left to sell"
ok inventory show "$PHONE"
check "blocked" "$(get blocked inventory show "$PHONE")" 1
check "available" "$(get available inventory show "$PHONE")" 4

step "shipping before payment is refused"
fails INVALID_TRANSITION order ship "$ORDER"

step "a payment of the wrong amount is refused"
fails AMOUNT_MISMATCH order pay "$ORDER" --amount 100

step "pay what is due (omsctl reads amountDue first)"
ok order pay "$ORDER" --amount due --key "pay-$RUN_ID" --field status \
  --field paidAmount
{ read -r STATUS; read -r PAID; } <<<"$OUT"
check "status" "$STATUS" PAID
check "paid" "$PAID" "$TOTAL"

step "ship: the phone leaves the stock"
ok order ship "$ORDER" --reason "courier picked up" --field status
check "status" "$OUT" SHIPPED
check "on hand" "$(get onHand inventory show "$PHONE")" 4
check "consumed" "$(get consumedTotal inventory show "$PHONE")" 1

step "a shipped order can no longer be cancelled"
fails INVALID_TRANSITION order cancel "$ORDER"

step "deliver"
ok order deliver "$ORDER" --field status
check "status" "$OUT" DELIVERED

step "the order with its history"
ok order show "$ORDER"

step "the customer's orders"
ok order list "$CUSTOMER"

step "the stock still adds up"
ok audit

finish
