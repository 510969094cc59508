// The out-of-line destructors of the interfaces the actors call out through
// (their vtables live here, in the vocabulary library).
#include "messages/journal_store.hpp"
#include "messages/payment_gateway.hpp"

namespace oms {

journal_store::~journal_store() = default;

payment_gateway::~payment_gateway() = default;

} // namespace oms
