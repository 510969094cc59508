// omsctl customer: create a customer (and its token) and show one.
#include <iostream>

#include "system/client/commands.hpp"

namespace oms::cli {

namespace {

void print_customer(const json& c) {
  block rows{{"id", text(c, "customerId")},
             {"name", text(c, "name")},
             {"created at", text(c, "createdAt")}};
  if (c.contains("token"))
    rows.emplace_back("token", text(c, "token"));
  print_block(rows);
  if (c.contains("token"))
    std::cout << "\nThe token is shown only once. Act as this customer with "
                 "--token TOKEN or OMS_TOKEN=TOKEN.\n";
}

void add_customer_create(CLI::App* cus, args& a, action& run) {
  auto* create = cus->add_subcommand(
      "create", "Create a customer; prints its id and its bearer token, "
                "which is shown only this once (POST /v1/customers; admin)");
  create->add_option("name", a.name, "The customer's name")->required();
  set_action(create, run, [](session& s, const args& a) {
    a.out.emit(s.call("POST", "/v1/customers", json{{"name", a.name}}),
               print_customer);
  });
}

void add_customer_show(CLI::App* cus, args& a, action& run) {
  auto* show =
      cus->add_subcommand("show", "A customer (GET /v1/customers/{id})");
  show->add_option("id", a.id, "The customer id (cus_...)")->required();
  set_action(show, run, [](session& s, const args& a) {
    a.out.emit(s.call("GET", customer_path(a.id)), print_customer);
  });
}

} // namespace

void add_customer(CLI::App& app, args& a, action& run) {
  add_group(app, "customer", "Customers and their tokens", a, run,
            {add_customer_create, add_customer_show});
}

} // namespace oms::cli
