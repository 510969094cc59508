// Value types of the order system: what actors send each other and what the
// journal stores, one header per topic. This header gathers them all for the
// files that want the whole vocabulary.
#pragma once

#include "messages/audit.hpp"
#include "messages/basics.hpp"
#include "messages/customers.hpp"
#include "messages/events.hpp"
#include "messages/money.hpp"
#include "messages/order_command.hpp"
#include "messages/orders.hpp"
#include "messages/payments.hpp"
#include "messages/stock.hpp"
#include "messages/stock_change.hpp"
