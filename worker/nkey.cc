#include "worker/nkey.h"

#include <openssl/evp.h>

#include <array>
#include <memory>

namespace sluice::worker {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr uint8_t kSeedPrefix = 18 << 3;  // 'S'
constexpr uint8_t kUserPrefix = 20 << 3;  // 'U'
constexpr size_t kKeyBytes = 32;

int base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

std::string base32Encode(std::span<const uint8_t> bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

bool base32Decode(std::string_view text, std::vector<uint8_t>& out) {
  out.clear();
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = base32Value(c);
    if (v < 0) return false;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return true;
}

uint16_t nkeyCrc16(std::span<const uint8_t> bytes) {
  uint16_t crc = 0;
  for (const uint8_t b : bytes) {
    crc ^= static_cast<uint16_t>(b << 8);
    for (int i = 0; i < 8; ++i)
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
  }
  return crc;
}

std::string_view nkeySeedIn(std::string_view fileContent) {
  size_t at = 0;
  while (at < fileContent.size()) {
    const size_t start = fileContent.find_first_not_of(" \t\r\n", at);
    if (start == std::string_view::npos) break;
    const size_t end = std::min(fileContent.find_first_of(" \t\r\n", start), fileContent.size());
    const auto word = fileContent.substr(start, end - start);
    if (word.front() == 'S') return word;
    at = end;
  }
  return {};
}

common::Result<std::string> nkeyPublicKey(std::string_view encodedSeed) {
  const auto seed = trim(encodedSeed);
  std::vector<uint8_t> raw;
  // prefix (2 bytes: 'S' and the key type, 5 bits each) + 32-byte Ed25519 seed + CRC16 (little endian)
  if (!base32Decode(seed, raw) || raw.size() != 2 + kKeyBytes + 2) {
    return common::invalidArgument("not an NKey seed (expected 58 base32 characters starting with 'SU')");
  }
  const uint16_t crc = static_cast<uint16_t>(raw[raw.size() - 2] | (raw[raw.size() - 1] << 8));
  if (crc != nkeyCrc16(std::span<const uint8_t>(raw.data(), raw.size() - 2))) {
    return common::invalidArgument("NKey seed checksum mismatch (truncated or mistyped seed)");
  }
  const uint8_t type = static_cast<uint8_t>(((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3));
  if ((raw[0] & 0xf8) != kSeedPrefix || type != kUserPrefix) {
    return common::invalidArgument(
        "not a user NKey seed: NATS user authentication needs a seed starting with 'SU'");
  }
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw.data() + 2, kKeyBytes), &EVP_PKEY_free);
  std::array<uint8_t, 1 + kKeyBytes + 2> pub{};
  size_t length = kKeyBytes;
  if (!key || EVP_PKEY_get_raw_public_key(key.get(), pub.data() + 1, &length) != 1 || length != kKeyBytes) {
    return common::internalError("OpenSSL could not derive the Ed25519 public key of the NKey seed");
  }
  pub[0] = type;
  const uint16_t pubCrc = nkeyCrc16(std::span<const uint8_t>(pub.data(), 1 + kKeyBytes));
  pub[1 + kKeyBytes] = static_cast<uint8_t>(pubCrc & 0xff);
  pub[2 + kKeyBytes] = static_cast<uint8_t>(pubCrc >> 8);
  return base32Encode(pub);
}

}  // namespace sluice::worker
