#include "worker/vec_queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sluice::worker {
namespace {

std::vector<int> contents(const VecQueue<int>& q) { return std::vector<int>(q.begin(), q.end()); }

TEST(VecQueueTest, IsFirstInFirstOutAcrossCompactions) {
  VecQueue<int> q;
  int next = 0;
  int expected = 0;
  // Interleave pushes and pops so the head passes the compaction point many times.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 100; ++i) q.push_back(next++);
    for (int i = 0; i < 70; ++i) {
      ASSERT_EQ(q.front(), expected++);
      q.pop_front();
    }
  }
  EXPECT_EQ(q.size(), static_cast<size_t>(next - expected));
  while (!q.empty()) {
    ASSERT_EQ(q.front(), expected++);
    q.pop_front();
  }
  EXPECT_EQ(expected, next);
  EXPECT_EQ(q.size(), 0u);
}

TEST(VecQueueTest, IteratesTheLiveElementsAndErasesATail) {
  VecQueue<int> q;
  for (int i = 0; i < 10; ++i) q.push_back(i);
  q.pop_front();
  q.pop_front();
  EXPECT_EQ(contents(q), (std::vector<int>{2, 3, 4, 5, 6, 7, 8, 9}));
  auto odd = std::stable_partition(q.begin(), q.end(), [](int v) { return v % 2 == 0; });
  q.eraseFrom(odd);
  EXPECT_EQ(contents(q), (std::vector<int>{2, 4, 6, 8}));
  EXPECT_EQ(q.back(), 8);
  q.eraseFrom(q.begin());
  EXPECT_TRUE(q.empty());
  q.push_back(42);  // usable again after being emptied
  EXPECT_EQ(q.front(), 42);
}

TEST(VecQueueTest, MovesOwnedValuesThrough) {
  VecQueue<std::string> q;
  q.push_back(std::string(100, 'a'));
  q.push_back(std::string(100, 'b'));
  std::string first = std::move(q.front());
  q.pop_front();
  EXPECT_EQ(first, std::string(100, 'a'));
  EXPECT_EQ(q.front(), std::string(100, 'b'));
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace sluice::worker
