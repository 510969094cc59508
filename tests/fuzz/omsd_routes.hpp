// omsd's route table as the fuzz targets see it: method and pattern of each
// row of system/daemon/api.cpp, in order, with the query parameters the
// route takes. tests/api_test.cpp checks that it is the API's table.
#pragma once

#include <initializer_list>

namespace oms::fuzz {

struct omsd_route {
  const char* method;
  const char* pattern;
  std::initializer_list<const char*> query;
};

inline const omsd_route omsd_routes[] = {
    {"GET", "/healthz", {}},
    {"GET", "/readyz", {}},
    {"GET", "/metrics", {}},
    {"POST", "/v1/inventory/{sku}/receipts", {}},
    {"POST", "/v1/inventory/{sku}/changes", {}},
    {"GET", "/v1/inventory/{sku}", {"seller"}},
    {"GET", "/v1/inventory/{sku}/holds", {"seller"}},
    {"PATCH", "/v1/inventory/{sku}", {}},
    {"GET", "/v1/inventory", {"seller", "limit", "cursor"}},
    {"POST", "/v1/customers", {}},
    {"GET", "/v1/customers/{id}", {}},
    {"GET", "/v1/customers/{id}/cart", {}},
    {"PUT", "/v1/customers/{id}/cart/items/{sku}", {}},
    {"DELETE", "/v1/customers/{id}/cart/items/{sku}", {"seller"}},
    {"POST", "/v1/customers/{id}/cart/checkout", {}},
    {"GET", "/v1/customers/{id}/orders", {"limit", "cursor"}},
    {"POST", "/v1/orders", {}},
    {"GET",
     "/v1/orders",
     {"status", "sku", "customerId", "seller", "createdFrom", "createdTo",
      "limit", "cursor"}},
    {"GET", "/v1/orders/{id}", {}},
    {"PATCH", "/v1/orders/{id}", {}},
    {"POST", "/v1/orders/{id}/confirm", {}},
    {"POST", "/v1/orders/{id}/pay", {}},
    {"POST", "/v1/orders/{id}/ship", {}},
    {"POST", "/v1/orders/{id}/shipments", {}},
    {"POST", "/v1/orders/{id}/returns", {}},
    {"POST", "/v1/orders/{id}/returns/{rid}/receive", {}},
    {"POST", "/v1/orders/{id}/returns/{rid}/inspect", {}},
    {"POST", "/v1/orders/{id}/returns/{rid}/reject", {}},
    {"POST", "/v1/orders/{id}/deliver", {}},
    {"POST", "/v1/orders/{id}/cancel", {}},
    {"GET", "/v1/audit", {}},
    {"GET", "/v1/wms", {}},
    {"GET", "/v1/cluster", {"leases"}},
    {"GET", "/v1/events", {"after", "limit", "type", "subject", "wait"}},
    {"GET", "/v1/events/types", {}},
    {"POST", "/v1/webhooks", {}},
    {"GET", "/v1/webhooks", {}},
    {"GET", "/v1/webhooks/{id}", {}},
    {"PATCH", "/v1/webhooks/{id}", {}},
    {"DELETE", "/v1/webhooks/{id}", {}},
    {"POST", "/v1/webhooks/{id}/rotate", {}},
    {"GET", "/v1/webhooks/{id}/deliveries", {}},
    {"POST", "/v1/webhooks/{id}/deliveries/{delivery}/retry", {}},
};

} // namespace oms::fuzz
