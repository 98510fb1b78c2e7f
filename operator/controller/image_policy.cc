#include "operator/controller/image_policy.h"

#include <algorithm>

namespace sluice::controller {

std::string imageRepository(const std::string& image) {
  std::string out = image.substr(0, image.find('@'));
  const auto colon = out.rfind(':');
  const auto slash = out.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) out.resize(colon);
  return out;
}

std::vector<std::string> parseImageRepositories(const std::string& flag) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= flag.size()) {
    const size_t end = std::min(flag.find(',', start), flag.size());
    const std::string entry = flag.substr(start, end - start);
    const auto first = entry.find_first_not_of(" \t");
    if (first != std::string::npos)
      out.push_back(entry.substr(first, entry.find_last_not_of(" \t") - first + 1));
    start = end + 1;
  }
  return out;
}

std::optional<std::string> imageRefusal(const std::string& image, const std::vector<std::string>& allowed) {
  if (image.empty() || allowed.empty()) return std::nullopt;
  const std::string repository = imageRepository(image);
  std::string list;
  for (const auto& entry : allowed) {
    const bool prefix = !entry.empty() && entry.back() == '/';
    if (prefix ? repository.rfind(entry, 0) == 0 && repository.size() > entry.size() : repository == entry)
      return std::nullopt;
    list += (list.empty() ? "" : ", ") + entry;
  }
  return "spec.worker.image \"" + image + "\" is not allowed: repository \"" + repository +
         "\" is not in the operator's allowed image repositories (" + list +
         "); use an image from one of them, leave spec.worker.image out to run the operator's worker "
         "image, or ask the cluster admin to allow it (chart value operator.allowedImageRepositories)";
}

}  // namespace sluice::controller
