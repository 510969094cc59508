// The storage encoding of order records: compact JSON that keeps every field
// (unlike the API rendering in messages/json.hpp), so a record read back
// from a store equals the record written.
#pragma once

#include <string>
#include <string_view>

#include "messages/domain.hpp"

namespace oms {

/// Encodes every field of `rec`.
std::string encode_record(const order_record& rec);

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

} // namespace oms
