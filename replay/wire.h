// Between wire messages (proto/replay.proto) and stored rows (replay/chunk.h):
// the chunks of an insert request, and the SampleResponse for sampled rows.
// Used by the service and by bench/replay_bench's in-process cases.
#ifndef RLX_REPLAY_WIRE_H_
#define RLX_REPLAY_WIRE_H_

#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "replay.pb.h"
#include "replay/chunk.h"
#include "replay/table.h"

namespace rlx {

// The chunks of a validated request, in storage order: one for its items (if
// any), then one per batch. `owner` keeps the request alive (its arena).
std::vector<ChunkPtr> ChunksOfRequest(std::shared_ptr<const void> owner,
                                      const InsertRequest& request);

// Fills an empty, arena-allocated response with sampled rows, in order.
// Without batch_format: one SampledItem each; stored Items are referenced, not
// copied (the entries keep them alive and must outlive the response), rows of
// batches are copied into Items on the response's arena. With batch_format:
// one SampledBatch per run of rows with the same signature, the rows' tensors
// gathered into its columns (memcpy) and their metadata into packed arrays.
void FillSampleResponse(absl::Span<const SampledEntry> entries, bool batch_format,
                        SampleResponse* response);

}  // namespace rlx

#endif  // RLX_REPLAY_WIRE_H_
