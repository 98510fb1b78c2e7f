#pragma once
// URLs as they may be shown: a URL's userinfo (http://user:password@host/) is a credential, so
// everything that logs a URL or copies it into a message (errors, the sluice.error dead-letter
// header, --check) shows it through redactUserinfo.
#include <string>
#include <string_view>

namespace sluice::common {

// "http://user:pw@host:8080/x" -> "http://[redacted]@host:8080/x"; a URL without userinfo (or not a
// URL) is returned as it is.
std::string redactUserinfo(std::string_view url);

// `text` with every occurrence of `url`'s userinfo replaced by [redacted]: for messages a library
// wrote that may quote the URL.
std::string redactUserinfoIn(std::string_view text, std::string_view url);

}  // namespace sluice::common
