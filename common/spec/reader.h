#pragma once
// MapReader walks one YAML mapping, reads typed fields with ranges, and remembers which keys it
// read so finish() can report unknown fields ("did you mean ...?"). Internal to the spec library.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/spec/limits.h"
#include "common/spec/parse.h"

namespace sluice::spec::detail {

class Errors {
 public:
  void add(const std::string& path, const std::string& message, const YAML::Node& at);
  void add(const std::string& path, const std::string& message) { list_.push_back({path, message, 0, 0}); }
  std::vector<SpecError>& list() { return list_; }

 private:
  std::vector<SpecError> list_;
};

class MapReader {
 public:
  // Reports an error (and reads nothing) when node is neither a map nor null.
  MapReader(YAML::Node node, std::string path, Errors& errors);

  const std::string& path() const { return path_; }
  std::string pathOf(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool valid() const { return valid_; }
  bool has(const std::string& key);
  YAML::Node raw(const std::string& key);  // marks the key as known
  Errors& errors() { return errors_; }

  void string(const std::string& key, std::string& out, bool required = false, const std::string& hint = "");
  void integer(const std::string& key, int& out, int64_t min, int64_t max);
  void integer(const std::string& key, int64_t& out, int64_t min, int64_t max);
  void optionalInteger(const std::string& key, std::optional<int64_t>& out, int64_t min, int64_t max);
  void number(const std::string& key, double& out, double min, double max);
  void boolean(const std::string& key, bool& out);
  void stringList(const std::string& key, std::vector<std::string>& out, bool required,
                  const std::string& hint);
  void stringMap(const std::string& key, std::map<std::string, std::string>& out);

  template <typename E>
  void enumeration(const std::string& key, E& out, const std::vector<std::pair<std::string, E>>& values) {
    std::string text;
    if (!scalar(key, text)) return;
    for (const auto& [name, value] : values) {
      if (name == text) {
        out = value;
        return;
      }
    }
    std::string allowed;
    for (const auto& [name, value] : values) allowed += (allowed.empty() ? "" : ", ") + name;
    errors_.add(pathOf(key), pathOf(key) + " must be one of " + allowed + " (got '" + excerpt(text) + "')",
                get(key));
  }

  // Report (and return false) when a string or a list/map is over its bound from spec/limits.h;
  // boundPath names the bound when it is not the path itself (map values: "x{}").
  bool withinLength(const std::string& path, const YAML::Node& value, const std::string& boundPath = "");
  bool withinCount(const std::string& path, const YAML::Node& value);

  // A nested mapping, when present and not null.
  std::optional<MapReader> child(const std::string& key);

  // Reports every key not read so far. Call last.
  void finish();

 private:
  bool scalar(const std::string& key, std::string& out);
  // Const lookup: yaml-cpp's non-const operator[] may insert the key.
  YAML::Node get(const std::string& key) const { return static_cast<const YAML::Node&>(node_)[key]; }
  template <typename T>
  bool convert(const std::string& key, T& out, const char* typeName);

  YAML::Node node_;
  std::string path_;
  Errors& errors_;
  bool valid_ = true;
  std::set<std::string> known_;
};

}  // namespace sluice::spec::detail
