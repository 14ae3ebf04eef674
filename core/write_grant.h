// Write grants: what a lease lets an actor write into the replay server.
//
// The learner signs, for each actor lease, the table and the streams
// (ItemMetadata.actor_id) the lease gave it (WriteGrant in replay.proto), with
// an HMAC-SHA256 key it shares with the replay server (--write_grant_key_file).
// The actor sends the signed grant with its insert stream (call metadata
// kWriteGrantHeader); a replay server that has the key refuses, with
// PERMISSION_DENIED and nothing stored, inserts without a valid grant, into
// another table, or for streams the grant does not name. So a worker token
// alone cannot write into another job's table or forge another actor's
// streams.
#ifndef RLX_CORE_WRITE_GRANT_H_
#define RLX_CORE_WRITE_GRANT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "replay.pb.h"

namespace rlx {

inline constexpr char kWriteGrantHeader[] = "x-rlx-write-grant";

class GrantSigner {
 public:
  // The key file holds one secret of at least 32 characters (whitespace at
  // the ends ignored), e.g. `openssl rand -hex 32`.
  static absl::StatusOr<std::shared_ptr<const GrantSigner>> Load(const std::string& path);
  static absl::StatusOr<std::shared_ptr<const GrantSigner>> FromKey(std::string key);

  // "v1.<payload>.<mac>" (web-safe base64, fits a metadata value).
  std::string Sign(const WriteGrant& grant) const;
  // The grant, or PERMISSION_DENIED for a malformed, forged or altered one.
  absl::StatusOr<WriteGrant> Verify(absl::string_view signed_grant) const;

 private:
  explicit GrantSigner(std::string key) : key_(std::move(key)) {}
  std::string Mac(absl::string_view payload) const;
  const std::string key_;
};

// OK when every row of request is for grant.table and a stream of the grant;
// PERMISSION_DENIED naming the first row that is not.
absl::Status CheckInsertAgainstGrant(const InsertRequest& request, const WriteGrant& grant);

}  // namespace rlx

#endif  // RLX_CORE_WRITE_GRANT_H_
