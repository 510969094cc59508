// The storage encoding of order records: compact JSON that keeps every field
// (unlike the API rendering in messages/json.hpp), so a record read back
// from a store equals the record written.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "messages/domain.hpp"

namespace oms {

/// Encodes every field of `rec`.
std::string encode_record(const order_record& rec);

/// The same text as encode_record, built as a nlohmann::json value and
/// dumped: what encode_record falls back to for text that is not ASCII
/// (nlohmann checks its UTF-8), and what its tests compare it with.
std::string encode_record_as_json(const order_record& rec);

/// Decodes what encode_record wrote. Returns false (and leaves `out`
/// unspecified) if `text` is not such a record.
bool decode_record(std::string_view text, order_record& out);

std::string encode_customer(const customer_record& rec);

bool decode_customer(std::string_view text, customer_record& out);

/// Encodes the details of a stock event (batch, expiry, reason, the batches
/// of a hold, inbox id, seller): "" when it has none.
std::string encode_stock_detail(const event& ev);

/// Decodes what encode_stock_detail wrote into `ev` ("" decodes to none).
bool decode_stock_detail(std::string_view text, event& ev);

/// The payload column of an event in the log: the order record (order
/// events), the customer (customer_created) or the stock detail (the rest).
std::string encode_payload(const event& ev);

/// Decodes what encode_payload wrote for `ev.kind` into `ev` ("" decodes to
/// none). Returns false if `text` is not such a payload.
bool decode_payload(std::string_view text, event& ev);

/// Encodes the batches of a hold: [["lot", quantity], ...].
std::string encode_allocations(const std::vector<lot_allocation>& lots);

/// Decodes what encode_allocations wrote ("" decodes to none).
bool decode_allocations(std::string_view text,
                        std::vector<lot_allocation>& out);

} // namespace oms
