#include "worker/message_pool.h"

#include <gtest/gtest.h>

#include "tests/worker/test_messages.h"

namespace sluice::worker {
namespace {

using testing::msg;

Batch withValues(size_t count, size_t valueBytes) {
  Batch batch;
  for (size_t i = 0; i < count; ++i)
    batch.push_back(msg(0, static_cast<int64_t>(i), std::nullopt, std::string(valueBytes, 'x')));
  return batch;
}

TEST(MessagePool, GivesBackTheSameStorage) {
  MessagePool pool(100, 1 << 20);
  EXPECT_TRUE(pool.take().empty());
  Batch batch = withValues(3, 100);
  const char* value = batch[1].value.data();
  pool.give(std::move(batch));
  EXPECT_EQ(pool.messages(), 3);
  EXPECT_GE(pool.bytes(), 300);
  Batch reused = pool.take();
  ASSERT_EQ(reused.size(), 3u);
  const std::string incoming(80, 'y');
  reused[1].value.assign(incoming.data(), incoming.size());  // as the Kafka source copies a record
  EXPECT_EQ(reused[1].value.data(), value);                  // fits the capacity it had: no new allocation
  EXPECT_EQ(pool.messages(), 0);
  EXPECT_EQ(pool.bytes(), 0);
  EXPECT_TRUE(pool.take().empty());
}

TEST(MessagePool, KeepsAtMostItsMessageLimit) {
  MessagePool pool(5, 1 << 20);
  pool.give(withValues(3, 100));
  Batch second = withValues(3, 100);
  pool.give(std::move(second));
  EXPECT_EQ(second.size(), 3u);  // refused: left with the caller, who frees it
  EXPECT_EQ(pool.messages(), 3);
  pool.give(withValues(2, 100));
  EXPECT_EQ(pool.messages(), 5);
}

TEST(MessagePool, KeepsAtMostItsByteLimit) {
  MessagePool pool(1000, 4096);
  pool.give(withValues(2, 1000));
  EXPECT_EQ(pool.messages(), 2);
  pool.give(withValues(3, 1000));  // would hold over 4 KiB of string capacity
  EXPECT_EQ(pool.messages(), 2);
  EXPECT_LE(pool.bytes(), 4096);
}

}  // namespace
}  // namespace sluice::worker
