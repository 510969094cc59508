// The order system's CAF type-ID block: every type that travels in a message
// is listed here (compiled with CAF_ENABLE_TYPE_ID_CHECKS, a missing one is a
// compile error).
#pragma once

#include <cstdint>
#include <vector>

#include <caf/type_id.hpp>

#include "messages/atoms.hpp"
#include "messages/cluster_protocol.hpp"
#include "messages/customer_protocol.hpp"
#include "messages/domain.hpp"
#include "messages/errors.hpp"
#include "messages/inventory_protocol.hpp"
#include "messages/journal_protocol.hpp"
#include "messages/order_protocol.hpp"
#include "messages/payment_protocol.hpp"
#include "messages/shards.hpp"
#include "messages/supervisor_protocol.hpp"
#include "messages/wms_protocol.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(oms, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(oms, (oms::seller))
CAF_ADD_TYPE_ID(oms, (oms::order_status))
CAF_ADD_TYPE_ID(oms, (oms::hold_kind))
CAF_ADD_TYPE_ID(oms, (oms::command_kind))
CAF_ADD_TYPE_ID(oms, (oms::event_kind))
CAF_ADD_TYPE_ID(oms, (oms::order_item))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::order_item>))
CAF_ADD_TYPE_ID(oms, (oms::address))
CAF_ADD_TYPE_ID(oms, (oms::create_order_request))
CAF_ADD_TYPE_ID(oms, (oms::stock_view))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::stock_view>))
CAF_ADD_TYPE_ID(oms, (oms::inventory_page))
CAF_ADD_TYPE_ID(oms, (oms::hold_view))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::hold_view>))
CAF_ADD_TYPE_ID(oms, (oms::stock_snapshot))
CAF_ADD_TYPE_ID(oms, (oms::sku_fault))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::sku_fault>))
CAF_ADD_TYPE_ID(oms, (oms::reserve_reply))
CAF_ADD_TYPE_ID(oms, (oms::order_line))
CAF_ADD_TYPE_ID(oms, (oms::history_entry))
CAF_ADD_TYPE_ID(oms, (oms::order_record))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::order_record>))
CAF_ADD_TYPE_ID(oms, (oms::order_command))
CAF_ADD_TYPE_ID(oms, (oms::event))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::event>))
CAF_ADD_TYPE_ID(oms, (oms::journal_stats))
CAF_ADD_TYPE_ID(oms, (oms::violation))
CAF_ADD_TYPE_ID(oms, (oms::audit_report))
CAF_ADD_TYPE_ID(oms, (oms::created_order))
CAF_ADD_TYPE_ID(oms, (oms::inventory_actor))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::inventory_actor>))
CAF_ADD_TYPE_ID(oms, (oms::order_actor))
CAF_ADD_TYPE_ID(oms, (oms::journal_actor))
CAF_ADD_TYPE_ID(oms, (oms::supervisor_actor))
CAF_ADD_TYPE_ID(oms, (oms::payment_kind))
CAF_ADD_TYPE_ID(oms, (oms::payment_status))
CAF_ADD_TYPE_ID(oms, (oms::payment_record))
CAF_ADD_TYPE_ID(oms, (oms::gateway_status))
CAF_ADD_TYPE_ID(oms, (oms::gateway_result))
CAF_ADD_TYPE_ID(oms, (oms::cart_line))
CAF_ADD_TYPE_ID(oms, (oms::cart_view))
CAF_ADD_TYPE_ID(oms, (oms::order_page))
CAF_ADD_TYPE_ID(oms, (std::vector<std::string>))
CAF_ADD_TYPE_ID(oms, (oms::payment_actor))
CAF_ADD_TYPE_ID(oms, (oms::customer_actor))
CAF_ADD_TYPE_ID(oms, (oms::key_state))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::key_state>))
CAF_ADD_TYPE_ID(oms, (oms::customer_record))
CAF_ADD_TYPE_ID(oms, (oms::wms_op))
CAF_ADD_TYPE_ID(oms, (oms::wms_call))
CAF_ADD_TYPE_ID(oms, (oms::wms_response))
CAF_ADD_TYPE_ID(oms, (oms::wms_breaker_state))
CAF_ADD_TYPE_ID(oms, (oms::wms_gateway_stats))
CAF_ADD_TYPE_ID(oms, (oms::wms_transport_actor))
CAF_ADD_TYPE_ID(oms, (oms::wms_gateway_actor))
CAF_ADD_TYPE_ID(oms, (oms::unallocatable_reason))
CAF_ADD_TYPE_ID(oms, (oms::lot_allocation))
CAF_ADD_TYPE_ID(oms, (std::vector<oms::lot_allocation>))
CAF_ADD_TYPE_ID(oms, (oms::batch_view))
CAF_ADD_TYPE_ID(oms, (oms::external_view))
CAF_ADD_TYPE_ID(oms, (oms::stock_change_kind))
CAF_ADD_TYPE_ID(oms, (oms::stock_change))
CAF_ADD_TYPE_ID(oms, (oms::inbox_result))
CAF_ADD_TYPE_ID(oms, (oms::inbox_outcome))
CAF_ADD_TYPE_ID(oms, (oms::confirm_command))
CAF_ADD_TYPE_ID(oms, (oms::pay_command))
CAF_ADD_TYPE_ID(oms, (oms::ship_command))
CAF_ADD_TYPE_ID(oms, (oms::deliver_command))
CAF_ADD_TYPE_ID(oms, (oms::cancel_command))
CAF_ADD_TYPE_ID(oms, (oms::cancel_lines_command))
CAF_ADD_TYPE_ID(oms, (oms::stored_sku))
CAF_ADD_TYPE_ID(oms, (oms::stored_external))
CAF_ADD_TYPE_ID(oms, (oms::order_query))
CAF_ADD_TYPE_ID(oms, (oms::order_hits))
CAF_ADD_TYPE_ID(oms, (oms::return_step))
CAF_ADD_TYPE_ID(oms, (oms::return_command))
CAF_ADD_TYPE_ID(oms, (oms::shard_epochs))
CAF_ADD_TYPE_ID(oms, (oms::shard_state))
CAF_ADD_TYPE_ID(oms, (oms::forwarded_request))
CAF_ADD_TYPE_ID(oms, (oms::forwarded_response))

CAF_END_TYPE_ID_BLOCK(oms)
