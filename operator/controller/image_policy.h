#pragma once
// Which worker images a pipeline may run: pure. The workers run with every Secret their pipeline
// names mounted, so a pipeline author who may set spec.worker.image could run any code with them;
// the cluster admin's allow-list of image repositories (--allowed-image-repositories, chart value
// operator.allowedImageRepositories) bounds that. docs/security.md argues the chart's default.
#include <optional>
#include <string>
#include <vector>

namespace sluice::controller {

// The repository of an image reference: without "@digest" and without ":tag" (a ':' before the
// last '/' is a registry port): "registry:5000/team/app:1.2@sha256:..." -> "registry:5000/team/app".
std::string imageRepository(const std::string& image);

// The comma-separated flag value as a list (blank entries dropped, spaces trimmed).
std::vector<std::string> parseImageRepositories(const std::string& flag);

// Why spec.worker.image = `image` may not run, naming the field and the fix; nullopt: it may.
// `allowed` empty: any image. An entry allows the repository it names exactly, or, ending in '/',
// every repository under that prefix ("registry.example.com/team/"). An empty `image` (the
// operator's own --worker-image) is always allowed.
std::optional<std::string> imageRefusal(const std::string& image, const std::vector<std::string>& allowed);

}  // namespace sluice::controller
