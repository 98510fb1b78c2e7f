#pragma once
// NKeys (the `nk` tool's format, used for NATS NKey authentication): the public key that belongs to
// a seed, so spec.source.nats.auth.nkeySeedFile needs only the seed (nats.c's
// natsOptions_SetNKeyFromSeed wants the public key too and has no way to derive it).
// Pure: base32 + CRC16 framing here, Ed25519 from OpenSSL (no I/O). Never logs the seed.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sluice::worker {

// "UA..." (56 characters) for a user seed "SU..." (58 characters). Whitespace around it is ignored;
// the error names what is wrong without echoing the seed.
common::Result<std::string> nkeyPublicKey(std::string_view encodedSeed);

// The seed in a seed file: its first word starting with 'S' (the `nk -gen user` output, or a seed
// pasted into a Secret with a trailing newline). Empty when there is none.
std::string_view nkeySeedIn(std::string_view fileContent);

// The framing's parts, exposed for tests: RFC 4648 base32 without padding, and CRC-16/XMODEM.
std::string base32Encode(std::span<const uint8_t> bytes);
bool base32Decode(std::string_view text, std::vector<uint8_t>& out);
uint16_t nkeyCrc16(std::span<const uint8_t> bytes);

}  // namespace sluice::worker
