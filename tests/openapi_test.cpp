// docs/openapi.yaml and docs/api.md against the routes omsd serves: a route
// added, removed or secured differently in the server without the docs
// following (or the other way round) fails here.
#include <doctest/doctest.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "system/daemon/api.hpp"

namespace {

using oms::daemon::api;
using oms::daemon::route_info;

const std::string source_dir = OMS_SOURCE_DIR;

// The HTTP methods an OpenAPI path item may hold, in lower case.
const std::vector<std::string> openapi_methods = {
    "get", "put", "post", "delete", "options", "head", "patch", "trace"};

std::string lower(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string upper(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

YAML::Node load_spec() {
  return YAML::LoadFile(source_dir + "/docs/openapi.yaml");
}

std::string read_text(const std::string& path) {
  std::ifstream in{path};
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string name_of(const route_info& r) {
  return r.method + " " + r.pattern;
}

// The node at `keys` below `node`, or an undefined node if a key is missing.
// yaml-cpp throws when a missing key's node is indexed further, and its
// non-const operator[] may insert: only const lookups, checked at each step.
YAML::Node at(const YAML::Node& node, std::initializer_list<std::string> keys) {
  // Walk with fresh nodes: assigning one yaml-cpp node to another would
  // overwrite the first node's contents in the document.
  std::vector<YAML::Node> walk{node};
  for (auto& key : keys) {
    const YAML::Node& here = walk.back();
    if (!here || !here.IsMap())
      return YAML::Node{YAML::NodeType::Undefined};
    const YAML::Node& next = here[key];
    if (!next)
      return YAML::Node{YAML::NodeType::Undefined};
    walk.push_back(next);
  }
  return walk.back();
}

// The operation object of a route in the spec; undefined if the spec lacks
// it.
YAML::Node operation_of(const YAML::Node& spec, const route_info& r) {
  return at(spec, {"paths", r.pattern, lower(r.method)});
}

// Follows a local "$ref" ("#/components/responses/X"), if `node` is one.
YAML::Node resolve(const YAML::Node& spec, const YAML::Node& node) {
  auto ref = at(node, {"$ref"}).as<std::string>("");
  if (ref.empty())
    return node;
  REQUIRE_MESSAGE(ref.rfind("#/", 0) == 0, "not a local $ref: " << ref);
  std::vector<YAML::Node> walk{spec};
  std::stringstream in{ref.substr(2)};
  for (std::string part; std::getline(in, part, '/');) {
    walk.push_back(at(walk.back(), {part}));
    REQUIRE_MESSAGE(walk.back().IsDefined(), "dangling $ref: " << ref);
  }
  return walk.back();
}

// Whether an operation is marked as needing no token: `security: []`.
bool is_public(const YAML::Node& op) {
  auto sec = at(op, {"security"});
  return sec.IsSequence() && sec.size() == 0;
}

bool is_admin(const YAML::Node& op) {
  auto flag = at(op, {"x-admin"});
  return flag.IsScalar() && flag.as<bool>(false);
}

// The security schemes an operation requires: its own `security`, else the
// document's.
std::set<std::string> schemes_of(const YAML::Node& spec, const YAML::Node& op) {
  auto own = at(op, {"security"});
  auto sec = own.IsDefined() ? own : at(spec, {"security"});
  std::set<std::string> result;
  if (!sec.IsSequence())
    return result;
  for (const auto& requirement : sec)
    if (requirement.IsMap())
      for (const auto& kv : requirement)
        result.insert(kv.first.as<std::string>());
  return result;
}

std::set<std::string> response_codes(const YAML::Node& op) {
  std::set<std::string> result;
  auto responses = at(op, {"responses"});
  if (!responses.IsMap())
    return result;
  for (const auto& kv : responses)
    result.insert(kv.first.as<std::string>());
  return result;
}

bool is_error_code(const std::string& code) {
  return !code.empty() && (code[0] == '4' || code[0] == '5');
}

} // namespace

TEST_CASE("every route omsd serves is in the OpenAPI spec with its method") {
  // A route added to the server without a spec entry fails here.
  const YAML::Node spec = load_spec();
  auto routes = api::routes();
  REQUIRE_FALSE(routes.empty());
  for (auto& r : routes) {
    INFO("route: " << name_of(r));
    CHECK(operation_of(spec, r).IsMap());
  }
}

TEST_CASE("every operation in the OpenAPI spec is a route omsd serves") {
  // A spec entry for a route the server does not serve (or serves with
  // another method) fails here.
  const YAML::Node spec = load_spec();
  std::set<std::string> served;
  for (auto& r : api::routes())
    served.insert(name_of(r));
  auto paths = at(spec, {"paths"});
  REQUIRE(paths.IsMap());
  size_t operations = 0;
  for (const auto& item : paths) {
    auto path = item.first.as<std::string>();
    REQUIRE(item.second.IsMap());
    for (const auto& kv : item.second) {
      auto key = kv.first.as<std::string>();
      if (std::find(openapi_methods.begin(), openapi_methods.end(), key) ==
          openapi_methods.end())
        continue; // parameters, summary, ...
      ++operations;
      INFO("spec operation: " << upper(key) << " " << path);
      CHECK(served.count(upper(key) + " " + path) == 1);
    }
  }
  CHECK(operations == served.size());
}

TEST_CASE("the path parameters of every route are declared in the spec") {
  // Each {name} of a route pattern is a required path parameter of its
  // operation, declared on the path item or the operation, and nothing else
  // is.
  const YAML::Node spec = load_spec();
  for (auto& r : api::routes()) {
    INFO("route: " << name_of(r));
    const YAML::Node op = operation_of(spec, r);
    REQUIRE(op.IsMap());
    std::set<std::string> declared;
    auto collect = [&](const YAML::Node& params) {
      if (!params.IsSequence())
        return;
      for (const auto& p : params) {
        auto param = resolve(spec, p);
        if (at(param, {"in"}).as<std::string>("") == "path") {
          CHECK(at(param, {"required"}).as<bool>(false));
          declared.insert(at(param, {"name"}).as<std::string>(""));
        }
      }
    };
    collect(at(spec, {"paths", r.pattern, "parameters"}));
    collect(at(op, {"parameters"}));
    std::set<std::string> in_pattern;
    for (auto i = r.pattern.find('{'); i != std::string::npos;
         i = r.pattern.find('{', i + 1))
      in_pattern.insert(
          r.pattern.substr(i + 1, r.pattern.find('}', i) - i - 1));
    CHECK(declared == in_pattern);
  }
}

TEST_CASE("security: [] marks exactly the routes that need no token") {
  // An operation without `security: []` must require a bearer scheme, and
  // only the server's unauthenticated routes may drop it.
  const YAML::Node spec = load_spec();
  auto schemes = at(spec, {"components", "securitySchemes"});
  REQUIRE(schemes.IsMap());
  std::set<std::string> bearer;
  for (const auto& kv : schemes)
    if (at(kv.second, {"type"}).as<std::string>("") == "http" &&
        lower(at(kv.second, {"scheme"}).as<std::string>("")) == "bearer")
      bearer.insert(kv.first.as<std::string>());
  REQUIRE_FALSE(bearer.empty());
  for (auto& r : api::routes()) {
    INFO("route: " << name_of(r) << (r.authenticated ? " (token)" : ""));
    const YAML::Node op = operation_of(spec, r);
    REQUIRE(op.IsMap());
    CHECK(is_public(op) == !r.authenticated);
    if (r.authenticated) {
      auto needed = schemes_of(spec, op);
      CHECK_FALSE(needed.empty());
      for (auto& name : needed)
        CHECK(bearer.count(name) == 1);
    }
  }
}

TEST_CASE("x-admin: true marks exactly the admin routes") {
  // An admin-only route without the mark, or a mark on a route any token
  // may call, fails here.
  const YAML::Node spec = load_spec();
  for (auto& r : api::routes()) {
    INFO("route: " << name_of(r) << (r.admin ? " (admin)" : ""));
    const YAML::Node op = operation_of(spec, r);
    REQUIRE(op.IsMap());
    CHECK(is_admin(op) == r.admin);
  }
}

TEST_CASE("every operation lists its error responses in the error shape") {
  // 401 exactly where a token is needed, 429 there and on /readyz (which
  // reads a token when one is sent), 403 on admin routes, 413
  // and 503 everywhere (body limit, stopping), 400 wherever a body is read;
  // every error response carries the Error schema.
  const YAML::Node spec = load_spec();
  REQUIRE(at(spec, {"components", "schemas", "Error"}).IsMap());
  for (auto& r : api::routes()) {
    INFO("route: " << name_of(r));
    const YAML::Node op = operation_of(spec, r);
    REQUIRE(op.IsMap());
    auto codes = response_codes(op);
    CHECK(std::any_of(codes.begin(), codes.end(), [](const std::string& c) {
      return !c.empty() && c[0] == '2';
    }));
    CHECK(codes.count("401") == (r.authenticated ? 1 : 0));
    bool reads_token = r.authenticated || r.pattern == "/readyz";
    CHECK(codes.count("429") == (reads_token ? 1 : 0));
    if (r.admin)
      CHECK(codes.count("403") == 1);
    CHECK(codes.count("413") == 1);
    CHECK(codes.count("503") == 1);
    if (at(op, {"requestBody"}).IsDefined())
      CHECK(codes.count("400") == 1);
    for (auto& code : codes) {
      if (!is_error_code(code))
        continue;
      INFO("response: " << code);
      auto resp = resolve(spec, at(op, {"responses", code}));
      auto schema = at(resp, {"content", "application/json", "schema"});
      CHECK(at(schema, {"$ref"}).as<std::string>("") ==
            "#/components/schemas/Error");
    }
  }
}

TEST_CASE("every request body in the spec refuses unknown fields") {
  // The server answers 400 VALIDATION_FAILED to unknown fields, so each
  // request schema says additionalProperties: false.
  const YAML::Node spec = load_spec();
  for (auto& r : api::routes()) {
    const YAML::Node op = operation_of(spec, r);
    REQUIRE(op.IsMap());
    if (!at(op, {"requestBody"}).IsDefined())
      continue;
    INFO("route: " << name_of(r));
    auto body = resolve(spec, at(op, {"requestBody"}));
    auto schema =
        resolve(spec, at(body, {"content", "application/json", "schema"}));
    REQUIRE(schema.IsMap());
    CHECK(at(schema, {"additionalProperties"}).IsScalar());
    CHECK_FALSE(at(schema, {"additionalProperties"}).as<bool>(true));
  }
}

TEST_CASE("docs/api.md documents every route and only served routes") {
  // Each route appears as "METHOD pattern"; every "#### METHOD /path"
  // heading names a route the server serves, one heading per route.
  auto text = read_text(source_dir + "/docs/api.md");
  std::set<std::string> served;
  for (auto& r : api::routes()) {
    served.insert(name_of(r));
    INFO("route: " << name_of(r));
    CHECK(text.find(name_of(r)) != std::string::npos);
  }
  std::istringstream lines{text};
  size_t headings = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("#### ", 0) != 0)
      continue;
    auto title = line.substr(5);
    auto space = title.find(' ');
    if (space == std::string::npos || title.find('/') != space + 1)
      continue; // not a "METHOD /path" heading
    if (title.substr(0, space) != upper(title.substr(0, space)))
      continue;
    ++headings;
    INFO("heading: " << line);
    CHECK(served.count(title) == 1);
  }
  CHECK(headings == served.size());
}
