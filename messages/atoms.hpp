// The atoms (message tags) of the order system's protocols. Commands are
// imperative; the texts are at most 10 characters (a CAF 0.17 limit).
#pragma once

#include <caf/atom.hpp>
#include <caf/type_id.hpp>

CAF_ADD_ATOM(oms, oms::atom, receive, "receive")
CAF_ADD_ATOM(oms, oms::atom, price, "price")
CAF_ADD_ATOM(oms, oms::atom, get, "get")
CAF_ADD_ATOM(oms, oms::atom, holds, "holds")
CAF_ADD_ATOM(oms, oms::atom, reserve, "reserve")
CAF_ADD_ATOM(oms, oms::atom, block, "block")
CAF_ADD_ATOM(oms, oms::atom, release, "release")
CAF_ADD_ATOM(oms, oms::atom, reduce, "reduce")
CAF_ADD_ATOM(oms, oms::atom, consume, "consume")
CAF_ADD_ATOM(oms, oms::atom, create, "create")
CAF_ADD_ATOM(oms, oms::atom, apply, "apply")
CAF_ADD_ATOM(oms, oms::atom, expire, "expire")
CAF_ADD_ATOM(oms, oms::atom, append, "append")
CAF_ADD_ATOM(oms, oms::atom, stats, "stats")
CAF_ADD_ATOM(oms, oms::atom, read, "read")
CAF_ADD_ATOM(oms, oms::atom, flush, "flush")
CAF_ADD_ATOM(oms, oms::atom, find_sku, "find_sku")
CAF_ADD_ATOM(oms, oms::atom, find_order, "find_order")
CAF_ADD_ATOM(oms, oms::atom, archive, "archive")
CAF_ADD_ATOM(oms, oms::atom, audit, "audit")
CAF_ADD_ATOM(oms, oms::atom, charge, "charge")
CAF_ADD_ATOM(oms, oms::atom, lookup, "lookup")
CAF_ADD_ATOM(oms, oms::atom, refund, "refund")
CAF_ADD_ATOM(oms, oms::atom, retry, "retry")
CAF_ADD_ATOM(oms, oms::atom, put, "put")
CAF_ADD_ATOM(oms, oms::atom, add, "add")
CAF_ADD_ATOM(oms, oms::atom, remove, "remove")
CAF_ADD_ATOM(oms, oms::atom, checkout, "checkout")
CAF_ADD_ATOM(oms, oms::atom, pay, "pay")
CAF_ADD_ATOM(oms, oms::atom, list, "list")
CAF_ADD_ATOM(oms, oms::atom, purge, "purge")
CAF_ADD_ATOM(oms, oms::atom, customer, "customer")
