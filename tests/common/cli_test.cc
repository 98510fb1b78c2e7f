#include "common/cli.h"

#include <gtest/gtest.h>

namespace sluice::common {
namespace {

CommandLine makeCli() {
  CommandLine cli("prog", "does things");
  cli.addOption("config", "", "the config");
  cli.addOption("log-level", "info", "level", "SLUICE_TEST_CLI_LEVEL");
  cli.addSwitch("check", "validate only");
  return cli;
}

TEST(CommandLineTest, ParsesBothValueForms) {
  auto cli = makeCli();
  const char* argv[] = {"prog", "--config=a.yaml", "--log-level", "debug", "--check"};
  ASSERT_TRUE(cli.parse(5, argv).isOk());
  EXPECT_EQ(cli.get("config"), "a.yaml");
  EXPECT_EQ(cli.get("log-level"), "debug");
  EXPECT_TRUE(cli.flag("check"));
  EXPECT_FALSE(cli.flag("help"));
}

TEST(CommandLineTest, UnknownFlagSuggestsClosest) {
  auto cli = makeCli();
  const char* argv[] = {"prog", "--confg", "x"};
  Status st = cli.parse(3, argv);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("unknown flag --confg (did you mean --config?)"), std::string::npos)
      << st.message();
}

TEST(CommandLineTest, MissingValueNamesFlag) {
  auto cli = makeCli();
  const char* argv[] = {"prog", "--config"};
  Status st = cli.parse(2, argv);
  ASSERT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("--config needs a value"), std::string::npos);
}

TEST(CommandLineTest, EnvVarFillsUnsetOption) {
  auto cli = makeCli();
  setenv("SLUICE_TEST_CLI_LEVEL", "warn", 1);
  const char* argv[] = {"prog"};
  ASSERT_TRUE(cli.parse(1, argv).isOk());
  EXPECT_EQ(cli.get("log-level"), "warn");
  unsetenv("SLUICE_TEST_CLI_LEVEL");
  EXPECT_EQ(cli.get("log-level"), "info");
}

TEST(CommandLineTest, UsageListsFlagsWithDefaults) {
  auto cli = makeCli();
  const std::string usage = cli.usage();
  EXPECT_NE(usage.find("--log-level VALUE"), std::string::npos);
  EXPECT_NE(usage.find("(default info)"), std::string::npos);
  EXPECT_NE(usage.find("[env SLUICE_TEST_CLI_LEVEL]"), std::string::npos);
  EXPECT_NE(usage.find("--help"), std::string::npos);
}

TEST(EditDistanceTest, ClosestMatchRespectsThreshold) {
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(closestMatch("maxMesages", {"maxMessages", "maxBytes"}).value_or(""), "maxMessages");
  EXPECT_FALSE(closestMatch("zzz", {"maxMessages", "maxBytes"}).has_value());
}

}  // namespace
}  // namespace sluice::common
