// Mutual TLS between the nodes' regions (CAF's OpenSSL module): the files
// a node is given, checked before the node starts, since CAF reads them
// only when a link opens and cannot report a bad one then.
#pragma once

#include <string>

namespace oms::cluster {

/// PEM files: this node's certificate (chain), its private key, the
/// cluster's CA certificate(s).
struct tls_files {
  std::string cert;
  std::string key;
  std::string ca;
};

/// What is wrong with `files`, or "": each one readable as PEM, the key
/// unencrypted, readable by its owner only, and the certificate's, and
/// the certificate signed by the CA.
std::string check_tls_files(const tls_files& files);

} // namespace oms::cluster
