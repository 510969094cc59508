// Where the JOURNAL actor makes events durable. One interface, several
// backends: in memory (tests), and on disk in later work.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "messages/domain.hpp"

namespace oms {

/// A backend of the JOURNAL. Only the JOURNAL actor calls it, from one
/// thread at a time.
class journal_store {
 public:
  virtual ~journal_store();

  /// Stores `events` atomically (all or none) and durably; the first of them
  /// gets sequence number last_seq() + 1. Returns an error (and stores
  /// nothing) on failure.
  virtual caf::error commit(const std::vector<event>& events) = 0;

  /// Up to `max` stored events with sequence numbers >= `from` (the first
  /// event has number 1).
  virtual std::vector<event> read(uint64_t from, uint64_t max) const = 0;

  /// Sequence number of the last stored event; 0 when empty.
  virtual uint64_t last_seq() const = 0;

  /// True if commit blocks on I/O, so the JOURNAL needs a thread of its own.
  virtual bool blocking() const = 0;

  /// A short description for logs ("memory", "sqlite:/path").
  virtual std::string describe() const = 0;
};

} // namespace oms
