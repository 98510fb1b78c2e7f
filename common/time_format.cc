#include "common/time_format.h"

#include <cctype>
#include <cstdio>
#include <ctime>

namespace sluice::common {

std::string formatMicroTime(WallTime t) {
  std::string seconds = formatRfc3339(t);  // ...:05Z
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  char fraction[16];
  std::snprintf(fraction, sizeof(fraction), ".%06lld", static_cast<long long>(micros < 0 ? 0 : micros));
  seconds.insert(seconds.size() - 1, fraction);
  return seconds;
}

Result<WallTime> parseRfc3339(std::string_view text) {
  const std::string s(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return invalidArgument("\"" + s + "\" is not an RFC 3339 time like 2026-01-01T00:00:00Z");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  size_t pos = static_cast<size_t>(consumed);
  long nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    long scale = 100'000'000;
    for (++pos; pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])); ++pos, scale /= 10) {
      nanos += (s[pos] - '0') * scale;
    }
  }
  long offsetSeconds = 0;
  const std::string zone = s.substr(pos);
  int oh = 0, om = 0;
  if (zone == "Z" || zone == "z") {
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
             std::sscanf(zone.c_str() + 1, "%2d:%2d", &oh, &om) == 2) {
    offsetSeconds = (zone[0] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
  } else {
    return invalidArgument("\"" + s + "\" has no time zone (expected Z or +hh:mm)");
  }
  // WallTime counts nanoseconds in 64 bits: only the years 1678 to 2262 fit, and a time outside them
  // (a hostile or corrupt timestamp) must be refused, not overflow.
  constexpr auto kLimit =
      std::chrono::duration_cast<std::chrono::seconds>(WallTime::duration::max()).count() - 1;
  const std::time_t secs = timegm(&tm) - offsetSeconds;
  if (secs < -kLimit || secs > kLimit) {
    return invalidArgument("\"" + s + "\" is outside the years 1678 to 2261 that a time here can hold");
  }
  return std::chrono::system_clock::from_time_t(secs) +
         std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(nanos));
}

}  // namespace sluice::common
