#include "system/cluster/tls.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace oms::cluster {

namespace {

// OpenSSL's queued errors as one line (and the queue emptied).
std::string ssl_errors() {
  std::string out;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty())
      out += "; ";
    out += buf;
  }
  return out.empty() ? "no detail" : out;
}

// An encrypted key would make OpenSSL ask for its passphrase on the
// terminal: refused instead.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

} // namespace

std::string check_tls_files(const tls_files& files) {
  struct stat st {};
  if (::stat(files.key.c_str(), &st) != 0)
    return "cannot read the private key " + files.key;
  if ((st.st_mode & 077) != 0)
    return "the private key " + files.key +
           " is open to other users: make it readable by its owner only "
           "(chmod 600)";
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{
      SSL_CTX_new(TLS_method()), &SSL_CTX_free};
  if (!ctx)
    return "cannot set up TLS: " + ssl_errors();
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1)
    return "cannot read the certificate " + files.cert + ": " + ssl_errors();
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr,
                                                          &EVP_PKEY_free};
  if (std::unique_ptr<FILE, decltype(&std::fclose)> in{
          std::fopen(files.key.c_str(), "r"), &std::fclose})
    key.reset(PEM_read_PrivateKey(in.get(), nullptr, no_passphrase, nullptr));
  if (!key)
    return "cannot read the private key " + files.key +
           " (an encrypted key is not supported): " + ssl_errors();
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1)
    return "the private key " + files.key + " is not the key of " + files.cert +
           ": " + ssl_errors();
  if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1)
    return "cannot read the CA certificate(s) " + files.ca + ": " +
           ssl_errors();
  X509* cert = SSL_CTX_get0_certificate(ctx.get());
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> check{
      X509_STORE_CTX_new(), &X509_STORE_CTX_free};
  if (!check ||
      X509_STORE_CTX_init(check.get(), SSL_CTX_get_cert_store(ctx.get()), cert,
                          chain) != 1)
    return "cannot check the certificate: " + ssl_errors();
  if (X509_verify_cert(check.get()) != 1)
    return "the certificate " + files.cert + " is not one of the CA " +
           files.ca + ": " +
           X509_verify_cert_error_string(X509_STORE_CTX_get_error(check.get()));
  return {};
}

} // namespace oms::cluster
