#pragma once
// A small command-line parser shared by both binaries: --name=value, --name value, boolean
// --flag, generated --help text, and errors that name the flag.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace sluice::common {

class CommandLine {
 public:
  CommandLine(std::string program, std::string summary);

  // Declares a flag taking a value, with a default shown in --help.
  void addOption(const std::string& name, const std::string& defaultValue, const std::string& help,
                 const std::string& envVar = "");
  void addSwitch(const std::string& name, const std::string& help);

  // Parses argv; unknown flags and missing values are errors naming the flag.
  Status parse(int argc, const char* const argv[]);

  std::string get(const std::string& name) const;
  bool isSet(const std::string& name) const;  // given on the command line or via its env var
  bool flag(const std::string& name) const;
  std::string usage() const;

 private:
  struct Spec {
    std::string defaultValue;
    std::string help;
    std::string envVar;
    bool isSwitch = false;
  };
  std::string program_;
  std::string summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
};

// Levenshtein distance, for "did you mean" suggestions.
size_t editDistance(const std::string& a, const std::string& b);
// The closest candidate within a distance that makes sense for the word's length, if any.
std::optional<std::string> closestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace sluice::common
