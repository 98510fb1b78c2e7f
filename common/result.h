#pragma once
// Status and Result<T>: how errors cross module boundaries in Sluice (no exceptions across them).
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace sluice::common {

enum class ErrorCode {
  kOk,
  kInvalidArgument,  // bad input: terminal, fix the spec
  kNotFound,
  kAlreadyExists,
  kConflict,  // optimistic concurrency or field-manager conflict: retry after re-reading
  kPermissionDenied,
  kUnavailable,  // transient: retry with backoff
  kTimeout,
  kGone,  // a watch's resourceVersion expired: relist
  kTooManyRequests,
  kCancelled,
  kInternal,
};

const char* errorCodeName(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool isOk() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return isOk(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "Unavailable: connect to 127.0.0.1:9092 refused"
  std::string toString() const;

  // Returns a copy whose message is prefixed with context: "reading spec: <message>".
  Status withContext(const std::string& context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

inline Status invalidArgument(std::string m) { return {ErrorCode::kInvalidArgument, std::move(m)}; }
inline Status notFound(std::string m) { return {ErrorCode::kNotFound, std::move(m)}; }
inline Status unavailable(std::string m) { return {ErrorCode::kUnavailable, std::move(m)}; }
inline Status internalError(std::string m) { return {ErrorCode::kInternal, std::move(m)}; }
inline Status timeoutError(std::string m) { return {ErrorCode::kTimeout, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(value_).isOk() && "a Result built from a Status must carry an error");
  }

  bool isOk() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return isOk(); }

  const T& value() const& {
    assert(isOk());
    return std::get<T>(value_);
  }
  T& value() & {
    assert(isOk());
    return std::get<T>(value_);
  }
  T&& value() && {
    assert(isOk());
    return std::get<T>(std::move(value_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  Status status() const { return isOk() ? Status::ok() : std::get<Status>(value_); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace sluice::common
