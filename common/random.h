#pragma once
// Randomness comes in through this interface so jittered decisions are reproducible in tests.
#include <mutex>
#include <random>

namespace sluice::common {

class Random {
 public:
  virtual ~Random() = default;
  // Uniform in [0, 1).
  virtual double uniform01() = 0;
};

class StdRandom final : public Random {
 public:
  StdRandom() : engine_(std::random_device{}()) {}
  explicit StdRandom(unsigned seed) : engine_(seed) {}
  double uniform01() override {
    std::lock_guard<std::mutex> lock(mu_);
    return dist_(engine_);
  }

 private:
  std::mutex mu_;
  std::mt19937_64 engine_;
  std::uniform_real_distribution<double> dist_{0.0, 1.0};
};

// Returns the same value every time: 0.5 means "no jitter" for the policies in this project.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(double value) : value_(value) {}
  double uniform01() override { return value_; }
  void set(double value) { value_ = value; }

 private:
  double value_;
};

}  // namespace sluice::common
