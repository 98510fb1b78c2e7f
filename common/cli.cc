#include "common/cli.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace sluice::common {

CommandLine::CommandLine(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {
  addSwitch("help", "print this help and exit");
  addSwitch("version", "print the version and exit");
}

void CommandLine::addOption(const std::string& name, const std::string& defaultValue, const std::string& help,
                            const std::string& envVar) {
  order_.push_back(name);
  specs_[name] = Spec{defaultValue, help, envVar, false};
}

void CommandLine::addSwitch(const std::string& name, const std::string& help) {
  order_.push_back(name);
  specs_[name] = Spec{"", help, "", true};
}

Status CommandLine::parse(int argc, const char* const argv[]) {
  std::vector<std::string> names(order_.begin(), order_.end());
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      return invalidArgument("unexpected argument '" + arg + "'; see --help");
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = specs_.find(name);
    if (it == specs_.end()) {
      std::string message = "unknown flag --" + name;
      if (auto close = closestMatch(name, names)) message += " (did you mean --" + *close + "?)";
      return invalidArgument(message + "; see --help");
    }
    if (it->second.isSwitch) {
      if (value && *value != "true" && *value != "false") {
        return invalidArgument("--" + name + " takes no value, or =true/=false (got '" + *value + "')");
      }
      values_[name] = value.value_or("true");
      continue;
    }
    if (!value) {
      if (i + 1 >= argc) return invalidArgument("--" + name + " needs a value; see --help");
      value = argv[++i];
    }
    values_[name] = *value;
  }
  return Status::ok();
}

std::string CommandLine::get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  auto spec = specs_.find(name);
  if (spec == specs_.end()) return "";
  if (!spec->second.envVar.empty()) {
    if (const char* env = std::getenv(spec->second.envVar.c_str()); env && *env) return env;
  }
  return spec->second.defaultValue;
}

bool CommandLine::isSet(const std::string& name) const {
  if (values_.count(name)) return true;
  auto spec = specs_.find(name);
  if (spec == specs_.end() || spec->second.envVar.empty()) return false;
  const char* env = std::getenv(spec->second.envVar.c_str());
  return env && *env;
}

bool CommandLine::flag(const std::string& name) const { return get(name) == "true"; }

std::string CommandLine::usage() const {
  std::ostringstream out;
  out << "Usage: " << program_ << " [flags]\n\n" << summary_ << "\n\nFlags:\n";
  for (const auto& name : order_) {
    const Spec& spec = specs_.at(name);
    std::string left = "  --" + name + (spec.isSwitch ? "" : " VALUE");
    out << left;
    out << std::string(left.size() < 30 ? 30 - left.size() : 1, ' ') << spec.help;
    if (!spec.isSwitch && !spec.defaultValue.empty()) out << " (default " << spec.defaultValue << ")";
    if (!spec.envVar.empty()) out << " [env " << spec.envVar << "]";
    out << "\n";
  }
  return out.str();
}

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitution});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::optional<std::string> closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t bestDistance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const auto& candidate : candidates) {
    const size_t d = editDistance(word, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace sluice::common
