#include "replay/client.h"

#include "absl/strings/str_cat.h"
#include "core/grpc_status.h"

namespace rlx {
namespace {

std::unique_ptr<grpc::ClientContext> MakeContext(absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (timeout != absl::InfiniteDuration()) {
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  return ctx;
}

}  // namespace


// ---- InsertStream ----------------------------------------------------------

InsertStream::InsertStream(std::unique_ptr<grpc::ClientContext> ctx, ReplayService::Stub* stub,
                           int max_in_flight, bool keep_keys)
    : ctx_(std::move(ctx)), max_in_flight_(std::max(1, max_in_flight)), keep_keys_(keep_keys) {
  stream_ = stub->Insert(ctx_.get());
  reader_ = std::thread([this] { ReadLoop(); });
}

InsertStream::~InsertStream() {
  if (!finished_) {
    ctx_->TryCancel();
    (void)Finish();
  }
}

void InsertStream::ReadLoop() {
  InsertResponse response;
  while (stream_->Read(&response)) {
    absl::MutexLock lock(&mu_);
    ++acked_;
    if (keep_keys_) keys_.insert(keys_.end(), response.keys().begin(), response.keys().end());
  }
  absl::MutexLock lock(&mu_);
  read_done_ = true;
}

absl::Status InsertStream::Send(const InsertRequest& request) {
  {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return read_done_ || sent_ - acked_ < max_in_flight_;
    };
    mu_.Await(absl::Condition(&room));
    if (read_done_) return Finish();
    ++sent_;
  }
  if (!stream_->Write(request)) return Finish();
  return absl::OkStatus();
}

absl::Status InsertStream::Flush() {
  absl::MutexLock lock(&mu_);
  auto all_acked = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return read_done_ || acked_ == sent_;
  };
  mu_.Await(absl::Condition(&all_acked));
  if (acked_ == sent_) return absl::OkStatus();
  mu_.Unlock();
  absl::Status s = Finish();
  mu_.Lock();
  return s.ok() ? absl::UnavailableError("insert stream ended early") : s;
}

absl::Status InsertStream::Finish() {
  if (finished_) return final_status_;
  finished_ = true;
  stream_->WritesDone();
  if (reader_.joinable()) reader_.join();
  final_status_ = FromGrpcStatus(stream_->Finish());
  return final_status_;
}

int64_t InsertStream::acknowledged() const {
  absl::MutexLock lock(&mu_);
  return acked_;
}

std::vector<uint64_t> InsertStream::TakeKeys() {
  absl::MutexLock lock(&mu_);
  return std::move(keys_);
}

// ---- SampleStream ----------------------------------------------------------

SampleStream::SampleStream(std::unique_ptr<grpc::ClientContext> ctx, ReplayService::Stub* stub,
                           const SampleRequest& first, int64_t credit, int64_t max_total)
    : ctx_(std::move(ctx)), credit_(credit), max_total_(max_total) {
  stream_ = stub->Sample(ctx_.get());
  stream_->Write(first);
  outstanding_ = requested_ = first.num_items();
}

SampleStream::SampleStream(absl::Status error)
    : credit_(0), max_total_(0), done_(true), open_error_(std::move(error)) {}

absl::Status SampleStream::Close(std::vector<SampledItem>* leftovers) {
  leftovers->clear();
  if (!open_error_.ok()) return open_error_;
  if (done_) return absl::OkStatus();
  stream_->WritesDone();
  SampleResponse response;
  absl::Status convert;
  while (stream_->Read(&response)) {
    if (absl::Status s = AppendSampledItems(response, leftovers); !s.ok() && convert.ok()) {
      convert = s;
    }
  }
  done_ = true;
  absl::Status s = FromGrpcStatus(stream_->Finish());
  return s.ok() ? convert : s;
}

SampleStream::~SampleStream() {
  if (!done_ && stream_ != nullptr) {
    ctx_->TryCancel();
    SampleResponse drain;
    while (stream_->Read(&drain)) drain.Clear();
    (void)stream_->Finish();
  }
}

void SampleStream::Cancel() {
  if (ctx_ != nullptr) ctx_->TryCancel();
}

absl::StatusOr<const SampleResponse*> SampleStream::NextResponse() {
  if (!open_error_.ok()) return open_error_;
  if (done_) return absl::FailedPreconditionError("sample stream already ended");
  // Top the credit back up before blocking so the server always has work:
  // once at most half of it is left, so a request goes out per half a
  // credit of items rather than per response (each write of this
  // synchronous stream waits for the transport).
  const int64_t more_items = std::min(credit_ - outstanding_, max_total_ - requested_);
  if (more_items > 0 && (2 * outstanding_ <= credit_ || requested_ + more_items >= max_total_)) {
    SampleRequest more;
    more.set_num_items(more_items);
    if (stream_->Write(more)) {
      outstanding_ += more_items;
      requested_ += more_items;
    }
  }
  arena_.Reset();
  response_ = google::protobuf::Arena::CreateMessage<SampleResponse>(&arena_);
  if (!stream_->Read(response_)) {
    done_ = true;
    absl::Status s = FromGrpcStatus(stream_->Finish());
    return s.ok() ? absl::OutOfRangeError("sample stream ended") : s;
  }
  outstanding_ -= SampledCount(*response_);
  return response_;
}

absl::Status SampleStream::Next(std::vector<SampledItem>* items) {
  items->clear();
  absl::StatusOr<const SampleResponse*> response = NextResponse();
  if (!response.ok()) return response.status();
  items->reserve(static_cast<size_t>(SampledCount(**response)));
  return AppendSampledItems(**response, items);
}

// ---- ReplayClient ----------------------------------------------------------

ReplayClient::ReplayClient(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), stub_(ReplayService::NewStub(channel_)) {}

std::unique_ptr<InsertStream> ReplayClient::NewInsertStream(int max_in_flight, bool keep_keys,
                                                            absl::Duration timeout) {
  return std::unique_ptr<InsertStream>(
      new InsertStream(MakeContext(timeout), stub_.get(), max_in_flight, keep_keys));
}

std::unique_ptr<SampleStream> ReplayClient::NewSampleStream(const std::string& table,
                                                            int64_t credit, int32_t max_batch,
                                                            int64_t timeout_ms,
                                                            bool partial_batches,
                                                            int64_t max_total) {
  SampleStreamOptions options;
  options.credit = credit;
  options.max_batch = max_batch;
  options.timeout_ms = timeout_ms;
  options.partial_batches = partial_batches;
  options.max_total = max_total;
  return NewSampleStream(table, options);
}

std::unique_ptr<SampleStream> ReplayClient::NewSampleStream(const std::string& table,
                                                            const SampleStreamOptions& options) {
  // A stream that may never request an item would wait for one forever.
  if (options.credit < 1) {
    return std::unique_ptr<SampleStream>(new SampleStream(absl::InvalidArgumentError(
        absl::StrCat("credit must be >= 1, got ", options.credit))));
  }
  if (options.max_total < 1) {
    return std::unique_ptr<SampleStream>(new SampleStream(absl::InvalidArgumentError(
        absl::StrCat("max_total must be >= 1, got ", options.max_total))));
  }
  SampleRequest first;
  first.set_table(table);
  first.set_num_items(std::min(options.credit, options.max_total));
  first.set_max_batch(options.max_batch);
  first.set_timeout_ms(options.timeout_ms);
  first.set_partial_batches(options.partial_batches);
  first.set_batch_format(options.batch_format);
  return std::unique_ptr<SampleStream>(
      new SampleStream(MakeContext(absl::InfiniteDuration()), stub_.get(), first, options.credit,
                       options.max_total));
}

absl::StatusOr<std::vector<uint64_t>> ReplayClient::InsertRequestOnce(
    const InsertRequest& request, absl::Duration timeout) {
  auto stream = NewInsertStream(/*max_in_flight=*/1, /*keep_keys=*/true, timeout);
  absl::Status s = stream->Send(request);
  if (s.ok()) s = stream->Flush();
  absl::Status f = stream->Finish();
  if (!s.ok()) return s;
  if (!f.ok()) return f;
  return stream->TakeKeys();
}

absl::StatusOr<std::vector<uint64_t>> ReplayClient::InsertBatches(const std::string& table,
                                                                  std::vector<ItemBatch> batches,
                                                                  absl::Duration timeout) {
  InsertRequest request;
  request.set_table(table);
  for (ItemBatch& batch : batches) *request.add_batches() = std::move(batch);
  return InsertRequestOnce(request, timeout);
}

absl::StatusOr<std::vector<SampledBatch>> ReplayClient::SampleBatches(const std::string& table,
                                                                      int64_t n,
                                                                      absl::Duration timeout) {
  if (n < 1) return absl::InvalidArgumentError(absl::StrCat("n must be >= 1, got ", n));
  SampleStreamOptions options;
  options.credit = n;
  options.max_batch = 256;
  options.timeout_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
  options.max_total = n;
  options.batch_format = true;
  auto stream = NewSampleStream(table, options);
  std::vector<SampledBatch> out;
  int64_t got = 0;
  while (got < n) {
    absl::StatusOr<const SampleResponse*> response = stream->NextResponse();
    if (!response.ok()) return response.status();
    if ((*response)->items_size() > 0) {
      // A batch_format stream gets batches only; SampledItems here would
      // never count towards n.
      return absl::InternalError(absl::StrCat(
          "server answered a batch_format sample with ", (*response)->items_size(),
          " SampledItems instead of SampledBatches"));
    }
    for (const SampledBatch& b : (*response)->batches()) {
      out.push_back(b);
      got += b.items().num_rows();
    }
  }
  std::vector<SampledItem> leftovers;
  absl::Status s = stream->Close(&leftovers);
  if (!s.ok()) return s;
  if (!leftovers.empty()) {
    return absl::InternalError("server sent more items than were requested");
  }
  return out;
}

absl::StatusOr<std::vector<uint64_t>> ReplayClient::Insert(const std::string& table,
                                                           std::vector<Item> items,
                                                           absl::Duration timeout) {
  InsertRequest request;
  request.set_table(table);
  for (Item& item : items) *request.add_items() = std::move(item);
  return InsertRequestOnce(request, timeout);
}

absl::StatusOr<std::vector<SampledItem>> ReplayClient::Sample(const std::string& table, int64_t n,
                                                              absl::Duration timeout) {
  if (n < 1) return absl::InvalidArgumentError(absl::StrCat("n must be >= 1, got ", n));
  auto stream = NewSampleStream(table, n, /*max_batch=*/256,
                                std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)),
                                /*partial_batches=*/true, /*max_total=*/n);
  std::vector<SampledItem> out;
  while (static_cast<int64_t>(out.size()) < n) {
    absl::StatusOr<const SampleResponse*> response = stream->NextResponse();
    if (!response.ok()) return response.status();
    if (absl::Status s = AppendSampledItems(**response, &out); !s.ok()) return s;
  }
  std::vector<SampledItem> leftovers;
  absl::Status s = stream->Close(&leftovers);
  out.insert(out.end(), leftovers.begin(), leftovers.end());
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<InfoResponse> ReplayClient::Info(const std::string& table) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  InfoRequest request;
  request.set_table(table);
  InfoResponse response;
  grpc::Status s = stub_->Info(&ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::Status ReplayClient::CreateTable(const TableConfig& config) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  CreateTableRequest request;
  *request.mutable_config() = config;
  CreateTableResponse response;
  return FromGrpcStatus(stub_->CreateTable(&ctx, request, &response));
}

absl::Status ReplayClient::DeleteTable(const std::string& name) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  DeleteTableRequest request;
  request.set_name(name);
  DeleteTableResponse response;
  return FromGrpcStatus(stub_->DeleteTable(&ctx, request, &response));
}

absl::StatusOr<std::vector<uint64_t>> ReplayClient::UpdatePriorities(
    const std::string& table, const std::vector<uint64_t>& keys,
    const std::vector<double>& priorities) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  UpdatePrioritiesRequest request;
  request.set_table(table);
  *request.mutable_keys() = {keys.begin(), keys.end()};
  *request.mutable_priorities() = {priorities.begin(), priorities.end()};
  UpdatePrioritiesResponse response;
  grpc::Status s = stub_->UpdatePriorities(&ctx, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return std::vector<uint64_t>(response.missing_keys().begin(), response.missing_keys().end());
}

absl::StatusOr<CheckpointResponse> ReplayClient::Checkpoint() {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  CheckpointResponse response;
  grpc::Status s = stub_->Checkpoint(&ctx, CheckpointRequest(), &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

absl::Status ReplayClient::Reset(const std::string& table) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  ResetRequest request;
  request.set_table(table);
  ResetResponse response;
  return FromGrpcStatus(stub_->Reset(&ctx, request, &response));
}

bool ReplayClient::WaitUntilServing(absl::Duration timeout) {
  return channel_->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout));
}

}  // namespace rlx
