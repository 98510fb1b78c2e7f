#include "common/url.h"

namespace sluice::common {
namespace {

constexpr std::string_view kRedacted = "[redacted]";

// The userinfo of `url` (without the '@'), or an empty view when it has none.
std::string_view userinfoOf(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const size_t start = scheme + 3;
  const auto authorityEnd = url.find_first_of("/?#", start);
  const std::string_view authority = url.substr(
      start, authorityEnd == std::string_view::npos ? std::string_view::npos : authorityEnd - start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return {};
  return url.substr(start, at);
}

}  // namespace

std::string redactUserinfo(std::string_view url) {
  const std::string_view userinfo = userinfoOf(url);
  if (userinfo.empty()) return std::string(url);
  const size_t start = static_cast<size_t>(userinfo.data() - url.data());
  std::string out(url.substr(0, start));
  out += kRedacted;
  out += url.substr(start + userinfo.size());
  return out;
}

std::string redactUserinfoIn(std::string_view text, std::string_view url) {
  const std::string_view userinfo = userinfoOf(url);
  std::string out(text);
  if (userinfo.empty()) return out;
  for (size_t at = out.find(userinfo); at != std::string::npos;
       at = out.find(userinfo, at + kRedacted.size()))
    out.replace(at, userinfo.size(), kRedacted);
  return out;
}

}  // namespace sluice::common
