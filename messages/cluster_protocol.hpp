// What the nodes of a cluster say to each other through CAF's middleman
// (docs/cluster.md): each node publishes its REGION on --cluster-listen and
// the others reach it there. Connected nodes trust each other completely:
// a region listens on the cluster's own network only, never for clients.
#pragma once

#include <cstdint>
#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"

namespace oms {

/// Interface of a node's REGION.
using region_actor = caf::typed_actor<
    // A peer (its node id) asks whether this node is there: answers this
    // node's id and how many shards it holds now.
    caf::replies_to<atom::ping, std::string>::with<std::string, uint64_t>>;

} // namespace oms
