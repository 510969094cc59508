#!/usr/bin/env bash
# A customer fills a cart with their own token (adding, updating, removing;
# never more than is available), checks out with an Idempotency-Key, and a
# retry of that checkout returns the same order instead of placing a second.
#
#   OMS_URL=http://127.0.0.1:8080 OMS_TOKEN=ADMIN_TOKEN examples/http/cart.sh
# shellcheck source=examples/http/lib.sh
source "$(dirname "$0")/lib.sh"

BOOK="BOOK-$RUN_ID"
PEN="PEN-$RUN_ID"
KEY="checkout-$RUN_ID"
TOKENS=$(mktemp -d)
trap 'rm -rf "$TOKENS" "$ERR_FILE"' EXIT

step "receive stock (admin): 5 books at 45000, 3 pens at 1500"
ok inventory receive "$BOOK" --qty 5 --price 45000
ok inventory receive "$PEN" --qty 3 --price 1500

step "create a customer; from here on they act with their own token"
ok customer create "Meera Iyer $RUN_ID" --field customerId --field token
{ read -r CUSTOMER; read -r TOKEN; } <<<"$OUT"
echo "$TOKEN" >"$TOKENS/customer"
AS_CUSTOMER=(--token-file "$TOKENS/customer")

step "the customer browses the inventory"
ok "${AS_CUSTOMER[@]}" inventory show "$BOOK"

step "add 2 books, then 1 more: the cart holds 3"
ok "${AS_CUSTOMER[@]}" cart add "$CUSTOMER" "$BOOK" --qty 2
ok "${AS_CUSTOMER[@]}" cart add "$CUSTOMER" "$BOOK" --qty 1
check "books in the cart" \
  "$(get lines.0.quantity "${AS_CUSTOMER[@]}" cart show "$CUSTOMER")" 3

step "adding more books than are available is refused"
fails INSUFFICIENT_STOCK "${AS_CUSTOMER[@]}" cart add "$CUSTOMER" "$BOOK" \
  --qty 10

step "set the pens to 2, then change the mind and remove them"
ok "${AS_CUSTOMER[@]}" cart set "$CUSTOMER" "$PEN" --qty 2
ok "${AS_CUSTOMER[@]}" cart remove "$CUSTOMER" "$PEN"
ok "${AS_CUSTOMER[@]}" cart show "$CUSTOMER"
check "cart total (3 x 45000)" \
  "$(get totalAmount "${AS_CUSTOMER[@]}" cart show "$CUSTOMER")" 135000

step "a customer token cannot touch the admin's routes"
fails FORBIDDEN "${AS_CUSTOMER[@]}" inventory receive "$BOOK" --qty 100

step "check out with an Idempotency-Key"
ok "${AS_CUSTOMER[@]}" cart checkout "$CUSTOMER" "${SHIP_TO[@]}" \
  --key "$KEY" --field id --field status --field totalAmount
{ read -r ORDER; read -r STATUS; read -r TOTAL; } <<<"$OUT"
check "status" "$STATUS" CREATED
check "total" "$TOTAL" 135000

step "the ordered books left the cart and are reserved"
ok "${AS_CUSTOMER[@]}" cart show "$CUSTOMER"
check "reserved books" "$(get reserved inventory show "$BOOK")" 3

step "retry the same checkout (as after a lost answer): the same order"
ok "${AS_CUSTOMER[@]}" cart checkout "$CUSTOMER" "${SHIP_TO[@]}" \
  --key "$KEY" --field id
check "order of the retry" "$OUT" "$ORDER"
check "reserved books" "$(get reserved inventory show "$BOOK")" 3

step "the same key with a different request is refused"
fails IDEMPOTENCY_KEY_REUSED "${AS_CUSTOMER[@]}" cart checkout "$CUSTOMER" \
  --line1 "2 Park Street" --city Kolkata --postal-code 700016 --country IN \
  --key "$KEY"

step "a new checkout of the now empty cart is refused"
fails CART_EMPTY "${AS_CUSTOMER[@]}" cart checkout "$CUSTOMER" \
  "${SHIP_TO[@]}" --key "$KEY-2"

step "the customer pays (a retry with the same key charges once)"
ok "${AS_CUSTOMER[@]}" order pay "$ORDER" --amount due --key "pay-$RUN_ID" \
  --field status --field paidAmount
check "status and paid" "$(paste -sd ' ' <<<"$OUT")" "PAID $TOTAL"
ok "${AS_CUSTOMER[@]}" order pay "$ORDER" --amount due --key "pay-$RUN_ID" \
  --field status --field paidAmount
check "status and paid after the retry" "$(paste -sd ' ' <<<"$OUT")" \
  "PAID $TOTAL"

step "another customer cannot see this order"
ok customer create "Someone Else $RUN_ID" --field token
echo "$OUT" >"$TOKENS/other"
fails ORDER_NOT_FOUND --token-file "$TOKENS/other" order show "$ORDER"

step "the order"
ok "${AS_CUSTOMER[@]}" order show "$ORDER"

finish
