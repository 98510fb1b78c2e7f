#include "operator/controller/image_policy.h"

#include <gtest/gtest.h>

namespace sluice::controller {
namespace {

TEST(ImagePolicy, TheRepositoryIsTheReferenceWithoutTagAndDigest) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ghcr.io/sluice-dev/sluice:0.1.0", "ghcr.io/sluice-dev/sluice"},
      {"ghcr.io/sluice-dev/sluice", "ghcr.io/sluice-dev/sluice"},
      {"ghcr.io/sluice-dev/sluice@sha256:abc", "ghcr.io/sluice-dev/sluice"},
      {"ghcr.io/sluice-dev/sluice:0.1.0@sha256:abc", "ghcr.io/sluice-dev/sluice"},
      {"registry:5000/team/app:1.2", "registry:5000/team/app"},  // a registry port is not a tag
      {"registry:5000/team/app", "registry:5000/team/app"},
      {"sluice:node", "sluice"},
      {"nginx", "nginx"},
  };
  for (const auto& [image, repository] : cases) EXPECT_EQ(imageRepository(image), repository) << image;
}

TEST(ImagePolicy, ParsesTheFlag) {
  EXPECT_EQ(parseImageRepositories(""), std::vector<std::string>{});
  EXPECT_EQ(parseImageRepositories("a/b, reg.io/team/ ,,c"),
            (std::vector<std::string>{"a/b", "reg.io/team/", "c"}));
}

TEST(ImagePolicy, OnlyAllowedRepositoriesRun) {
  const std::vector<std::string> allowed = {"ghcr.io/sluice-dev/sluice", "registry.example.com/team/"};
  struct Case {
    std::string image;
    bool allowed;
  };
  const Case cases[] = {
      {"", true},  // the operator's own --worker-image
      {"ghcr.io/sluice-dev/sluice:0.2.0", true},
      {"ghcr.io/sluice-dev/sluice@sha256:abc", true},
      {"registry.example.com/team/sluice:1", true},
      {"registry.example.com/team/sub/x:1", true},
      {"ghcr.io/sluice-dev/sluice-evil:1", false},  // exact entries are not prefixes
      {"ghcr.io/sluice-dev/sluice/x:1", false},
      {"registry.example.com/team:1", false},  // the prefix itself is not under it
      {"registry.example.com/teamx/a:1", false},
      {"evil.example.com/ghcr.io/sluice-dev/sluice:1", false},
      {"docker.io/library/busybox", false},
  };
  for (const auto& c : cases) {
    const auto refusal = imageRefusal(c.image, allowed);
    EXPECT_EQ(!refusal.has_value(), c.allowed) << c.image << ": " << refusal.value_or("");
    if (!refusal) continue;
    EXPECT_EQ(refusal->rfind("spec.worker.image \"" + c.image + "\" is not allowed: repository \"" +
                                 imageRepository(c.image) + "\"",
                             0),
              0u)
        << *refusal;
    EXPECT_NE(refusal->find("(ghcr.io/sluice-dev/sluice, registry.example.com/team/)"), std::string::npos);
    EXPECT_NE(refusal->find("operator.allowedImageRepositories"), std::string::npos);
  }
  EXPECT_FALSE(imageRefusal("docker.io/library/busybox", {}).has_value());  // no list: any image
}

}  // namespace
}  // namespace sluice::controller
