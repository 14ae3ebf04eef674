#include "bench/baseline_replay_service.h"

#include "replay/wire.h"

namespace rlx {
namespace {

// Read a request, append, write the ack, read the next.
class BaselineInsertReactor : public grpc::ServerBidiReactor<InsertRequest, InsertResponse> {
 public:
  explicit BaselineInsertReactor(BaselineReplayService* service) : service_(service) {
    NewRequest();
    StartRead(request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    service_->Append(arena_, request_, &response_);
    NewRequest();
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::CANCELLED);
      return;
    }
    StartRead(request_);
  }
  void OnDone() override { delete this; }

 private:
  void NewRequest() {
    google::protobuf::ArenaOptions options;
    options.start_block_size = 512;
    options.max_block_size = 64 << 10;
    arena_ = std::make_shared<google::protobuf::Arena>(options);
    request_ = google::protobuf::Arena::CreateMessage<InsertRequest>(arena_.get());
  }

  BaselineReplayService* service_;
  std::shared_ptr<google::protobuf::Arena> arena_;
  InsertRequest* request_ = nullptr;
  InsertResponse response_;
};

// Credit from reads; writes batches while credit lasts, one write in flight.
class BaselineSampleReactor : public grpc::ServerBidiReactor<SampleRequest, SampleResponse> {
 public:
  explicit BaselineSampleReactor(BaselineReplayService* service) : service_(service) {
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      if (!ok) {
        reads_done_ = true;
        if (!writing_ && credit_ == 0 && !finished_) {
          finished_ = true;
          Finish(grpc::Status::OK);
        }
        return;
      }
      if (max_batch_ == 0) {
        max_batch_ = request_.max_batch() > 0 ? request_.max_batch() : 256;
        batch_format_ = request_.batch_format();
      }
      credit_ += request_.num_items();
      if (!writing_ && credit_ > 0) write = writing_ = true;
    }
    StartRead(&request_);
    if (write) WriteNext();
  }
  void OnWriteDone(bool ok) override {
    bool write = false;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok || (reads_done_ && credit_ == 0)) {
        if (!finished_) {
          finished_ = true;
          Finish(ok ? grpc::Status::OK : grpc::Status::CANCELLED);
        }
        return;
      }
      if (credit_ > 0) write = writing_ = true;
    }
    if (write) WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    int64_t n;
    {
      absl::MutexLock lock(&mu_);
      n = std::min(credit_, max_batch_);
      credit_ -= n;
    }
    arena_.Reset();
    response_ = google::protobuf::Arena::CreateMessage<SampleResponse>(&arena_);
    if (batch_format_) {
      rows_.clear();
      service_->TakeRows(n, &rows_);
      FillSampleResponse(rows_, /*batch_format=*/true, response_);
    } else {
      taken_.clear();
      service_->Take(n, &taken_);
      for (const auto& item : taken_) {
        response_->add_items()->unsafe_arena_set_allocated_item(const_cast<Item*>(item.get()));
      }
    }
    StartWrite(response_);
  }

  BaselineReplayService* service_;
  SampleRequest request_;
  google::protobuf::Arena arena_;
  SampleResponse* response_ = nullptr;
  std::vector<std::shared_ptr<const Item>> taken_;
  std::vector<SampledEntry> rows_;
  absl::Mutex mu_;
  int64_t credit_ = 0;
  int64_t max_batch_ = 0;
  bool batch_format_ = false;
  bool writing_ = false;
  bool reads_done_ = false;
  bool finished_ = false;
};

}  // namespace

grpc::ServerBidiReactor<InsertRequest, InsertResponse>* BaselineReplayService::Insert(
    grpc::CallbackServerContext*) {
  return new BaselineInsertReactor(this);
}

grpc::ServerBidiReactor<SampleRequest, SampleResponse>* BaselineReplayService::Sample(
    grpc::CallbackServerContext*) {
  return new BaselineSampleReactor(this);
}

void BaselineReplayService::Append(const std::shared_ptr<google::protobuf::Arena>& arena,
                               InsertRequest* request, InsertResponse* response) {
  response->Clear();
  absl::MutexLock lock(&mu_);
  for (const Item& item : request->items()) {
    response->add_keys(next_key_++);
    items_.emplace_back(arena, &item);
  }
  for (const ItemBatch& batch : request->batches()) {
    ChunkPtr chunk = Chunk::FromBatch(arena, &batch);
    for (int r = 0; r < batch.num_rows(); ++r) {
      response->add_keys(next_key_);
      rows_.push_back(Row{chunk, r, next_key_++});
    }
  }
}

void BaselineReplayService::TakeRows(int64_t n, std::vector<SampledEntry>* out) {
  absl::MutexLock lock(&mu_);
  if (rows_.empty()) return;
  out->reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (row_cursor_ >= rows_.size()) row_cursor_ = 0;
    const Row& r = rows_[row_cursor_++];
    SampledEntry e;
    e.key = r.key;
    e.chunk = r.chunk;
    e.row = r.row;
    e.priority = r.chunk->priority(r.row);
    e.table_size = static_cast<int64_t>(rows_.size());
    out->push_back(std::move(e));
  }
}

void BaselineReplayService::Take(int64_t n, std::vector<std::shared_ptr<const Item>>* out) {
  absl::MutexLock lock(&mu_);
  if (items_.empty()) return;
  for (int64_t i = 0; i < n; ++i) {
    if (cursor_ >= items_.size()) cursor_ = 0;
    out->push_back(items_[cursor_++]);
  }
}

grpc::ServerUnaryReactor* BaselineReplayService::Reset(grpc::CallbackServerContext* context,
                                                   const ResetRequest*, ResetResponse*) {
  {
    absl::MutexLock lock(&mu_);
    items_.clear();
    cursor_ = 0;
    rows_.clear();
    row_cursor_ = 0;
  }
  auto* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace rlx
