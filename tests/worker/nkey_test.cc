// Tests worker/nkey.cc: the public key of an NKey seed, against a pair made by the NATS `nk` tool
// (github.com/nats-io/nkeys/nk v0.4.7, `nk -gen user -pubout`; generated for this test, grants nothing).
#include "worker/nkey.h"

#include <gtest/gtest.h>

namespace sluice::worker {
namespace {

constexpr char kSeed[] = "SUAJ437U6UX464YIMFJ6HHZM5PASZ24REIP6SQEPK4YVYANNWI44KJ2BGE";
constexpr char kPublic[] = "UASB6V4RZFTYB2UQZHGJ3OJPA3YZ3Z4RAWA3WG5LDNCCQKSR36RXBVVR";

TEST(NkeyPublicKey, MatchesTheNkToolsPublicKey) {
  const auto pub = nkeyPublicKey(kSeed);
  ASSERT_TRUE(pub) << pub.status().toString();
  EXPECT_EQ(*pub, kPublic);
  EXPECT_EQ(*nkeyPublicKey(std::string(kSeed) + "\n"), kPublic) << "a Secret's trailing newline";
}

TEST(NkeyPublicKey, RejectsBrokenSeedsWithoutEchoingThem) {
  std::string typo = kSeed;
  typo[20] = typo[20] == 'A' ? 'B' : 'A';
  struct Row {
    std::string seed;
    const char* expected;
  };
  const Row rows[] = {
      {"", "expected 58 base32 characters"},
      {std::string(kSeed).substr(0, 40), "expected 58 base32 characters"},
      {"su" + std::string(kSeed).substr(2), "expected 58 base32 characters"},
      {typo, "checksum mismatch"},
      {kPublic, "expected 58 base32 characters"},
  };
  for (const auto& row : rows) {
    const auto pub = nkeyPublicKey(row.seed);
    ASSERT_FALSE(pub) << row.seed;
    EXPECT_NE(pub.status().message().find(row.expected), std::string::npos) << pub.status().message();
    if (!row.seed.empty()) {
      EXPECT_EQ(pub.status().message().find(row.seed), std::string::npos) << "seed echoed";
    }
  }
}

TEST(NkeyPublicKey, AnAccountSeedIsNotAUserSeed) {
  // An account seed ("SA...") re-framed from the user seed's bytes: valid checksum, wrong type.
  std::vector<uint8_t> raw;
  ASSERT_TRUE(base32Decode(kSeed, raw));
  raw[0] = static_cast<uint8_t>((18 << 3) | (0 >> 5));
  raw[1] = static_cast<uint8_t>((0 & 31) << 3);
  const uint16_t crc = nkeyCrc16(std::span<const uint8_t>(raw.data(), raw.size() - 2));
  raw[raw.size() - 2] = static_cast<uint8_t>(crc & 0xff);
  raw[raw.size() - 1] = static_cast<uint8_t>(crc >> 8);
  const auto account = base32Encode(raw);
  ASSERT_EQ(account.substr(0, 2), "SA");
  const auto pub = nkeyPublicKey(account);
  ASSERT_FALSE(pub);
  EXPECT_NE(pub.status().message().find("'SU'"), std::string::npos) << pub.status().message();
}

TEST(NkeySeedIn, FirstWordStartingWithS) {
  EXPECT_EQ(nkeySeedIn(std::string(kSeed) + "\n"), kSeed);
  EXPECT_EQ(nkeySeedIn(std::string("  \n") + kSeed + "\n" + kPublic + "\n"), kSeed);
  EXPECT_EQ(nkeySeedIn(std::string(kPublic) + "\n" + kSeed), kSeed);
  EXPECT_EQ(nkeySeedIn("\n\n"), "");
}

TEST(Base32, RoundTripsAndRejectsOtherCharacters) {
  const std::vector<uint8_t> bytes = {0, 1, 2, 250, 251, 252, 253, 254, 255};
  std::vector<uint8_t> back;
  ASSERT_TRUE(base32Decode(base32Encode(bytes), back));
  EXPECT_EQ(back, bytes);
  EXPECT_EQ(base32Encode(std::vector<uint8_t>{'f', 'o', 'o', 'b', 'a', 'r'}), "MZXW6YTBOI")
      << "RFC 4648 test vector";
  EXPECT_FALSE(base32Decode("MZXW6YTBOI=", back));
  EXPECT_FALSE(base32Decode("mzxw", back));
}

}  // namespace
}  // namespace sluice::worker
