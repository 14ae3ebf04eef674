#include "core/write_grant.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/file_util.h"

namespace rlx {
namespace {

constexpr size_t kMinKeyLength = 32;
constexpr absl::string_view kVersion = "v1";

absl::Status Denied(absl::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat("write grant: ", why));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const GrantSigner>> GrantSigner::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("cannot read the write-grant key ",
                                                           path, ": ", text.status().message()));
  }
  absl::StatusOr<std::shared_ptr<const GrantSigner>> signer =
      FromKey(std::string(absl::StripAsciiWhitespace(*text)));
  if (!signer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", signer.status().message()));
  }
  return signer;
}

absl::StatusOr<std::shared_ptr<const GrantSigner>> GrantSigner::FromKey(std::string key) {
  if (key.size() < kMinKeyLength) {
    return absl::InvalidArgumentError(absl::StrCat("the write-grant key must be at least ",
                                                   kMinKeyLength, " characters, got ", key.size()));
  }
  return std::shared_ptr<const GrantSigner>(new GrantSigner(std::move(key)));
}

std::string GrantSigner::Mac(absl::string_view payload) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string GrantSigner::Sign(const WriteGrant& grant) const {
  const std::string payload = grant.SerializeAsString();
  return absl::StrCat(kVersion, ".", absl::WebSafeBase64Escape(payload), ".",
                      absl::WebSafeBase64Escape(Mac(payload)));
}

absl::StatusOr<WriteGrant> GrantSigner::Verify(absl::string_view signed_grant) const {
  const std::vector<absl::string_view> parts = absl::StrSplit(signed_grant, '.');
  if (parts.size() != 3 || parts[0] != kVersion) return Denied("malformed");
  std::string payload, mac;
  if (!absl::WebSafeBase64Unescape(parts[1], &payload) ||
      !absl::WebSafeBase64Unescape(parts[2], &mac)) {
    return Denied("malformed");
  }
  const std::string expected = Mac(payload);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) != 0) {
    return Denied("signature does not match (forged, altered, or signed with another key)");
  }
  WriteGrant grant;
  if (!grant.ParseFromString(payload)) return Denied("malformed");
  return grant;
}

absl::Status CheckInsertAgainstGrant(const InsertRequest& request, const WriteGrant& grant) {
  if (request.table() != grant.table()) {
    return Denied(absl::StrCat("the lease allows table '", grant.table(), "', not '",
                               request.table(), "'"));
  }
  const auto& ids = grant.actor_ids();
  // Grants hold an actor's few streams: a linear scan beats a set.
  auto allowed = [&](int64_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); };
  for (int i = 0; i < request.items_size(); ++i) {
    const int64_t id = request.items(i).metadata().actor_id();
    if (!allowed(id)) {
      return Denied(absl::StrCat("items[", i, "]: stream ", id, " is not one of lease ",
                                 grant.lease_id(), "'s streams"));
    }
  }
  for (int b = 0; b < request.batches_size(); ++b) {
    const ItemBatch& batch = request.batches(b);
    if (batch.actor_ids_size() == 0 && !allowed(0)) {
      return Denied(absl::StrCat("batches[", b, "]: rows of stream 0 are not lease ",
                                 grant.lease_id(), "'s"));
    }
    for (int r = 0; r < batch.actor_ids_size(); ++r) {
      if (!allowed(batch.actor_ids(r))) {
        return Denied(absl::StrCat("batches[", b, "].actor_ids[", r, "]: stream ",
                                   batch.actor_ids(r), " is not one of lease ", grant.lease_id(),
                                   "'s streams"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace rlx
