#include "common/spec/reader.h"

#include "common/cli.h"
#include "common/spec/limits.h"

namespace sluice::spec::detail {

void Errors::add(const std::string& path, const std::string& message, const YAML::Node& at) {
  SpecError error{path, message, 0, 0};
  if (at.IsDefined()) {
    const YAML::Mark mark = at.Mark();
    if (mark.line >= 0 && !mark.is_null()) {
      error.line = mark.line + 1;
      error.column = mark.column + 1;
    }
  }
  list_.push_back(std::move(error));
}

MapReader::MapReader(YAML::Node node, std::string path, Errors& errors)
    : node_(std::move(node)), path_(std::move(path)), errors_(errors) {
  if (!node_.IsDefined() || node_.IsNull()) {
    node_ = YAML::Node(YAML::NodeType::Map);
    return;
  }
  if (!node_.IsMap()) {
    errors_.add(path_,
                (path_.empty() ? std::string("the document") : path_) + " must be a mapping (an object)",
                node_);
    valid_ = false;
  }
}

bool MapReader::has(const std::string& key) {
  if (!valid_) return false;
  known_.insert(key);
  const YAML::Node value = get(key);
  return value.IsDefined() && !value.IsNull();
}

YAML::Node MapReader::raw(const std::string& key) {
  known_.insert(key);
  if (!valid_) return YAML::Node();
  return get(key);
}

bool MapReader::scalar(const std::string& key, std::string& out) {
  if (!has(key)) return false;
  const YAML::Node value = get(key);
  if (!value.IsScalar()) {
    errors_.add(pathOf(key), pathOf(key) + " must be a single value, not a list or mapping", value);
    return false;
  }
  if (!withinLength(pathOf(key), value)) return false;
  out = value.Scalar();
  return true;
}

bool MapReader::withinLength(const std::string& path, const YAML::Node& value, const std::string& boundPath) {
  const size_t limit = maxLengthOf(boundPath.empty() ? path : boundPath);
  const size_t length = value.Scalar().size();
  if (length <= limit) return true;
  errors_.add(
      path,
      path + " must be at most " + std::to_string(limit) + " characters (got " + std::to_string(length) + ")",
      value);
  return false;
}

bool MapReader::withinCount(const std::string& path, const YAML::Node& value) {
  const size_t limit = maxItemsOf(path);
  if (value.size() <= limit) return true;
  errors_.add(path,
              path + " must have at most " + std::to_string(limit) + " items (got " +
                  std::to_string(value.size()) + ")",
              value);
  return false;
}

template <typename T>
bool MapReader::convert(const std::string& key, T& out, const char* typeName) {
  std::string text;
  if (!scalar(key, text)) return false;
  const YAML::Node value = get(key);
  try {
    out = value.as<T>();
    return true;
  } catch (const YAML::Exception&) {
    errors_.add(pathOf(key), pathOf(key) + " must be " + typeName + " (got '" + excerpt(text) + "')", value);
    return false;
  }
}

void MapReader::string(const std::string& key, std::string& out, bool required, const std::string& hint) {
  if (!has(key)) {
    if (required)
      errors_.add(pathOf(key), pathOf(key) + " is required" + (hint.empty() ? "" : ": " + hint), node_);
    return;
  }
  std::string text;
  if (!scalar(key, text)) return;
  if (required && text.empty()) {
    errors_.add(pathOf(key), pathOf(key) + " must not be empty" + (hint.empty() ? "" : ": " + hint),
                get(key));
    return;
  }
  out = text;
}

void MapReader::integer(const std::string& key, int64_t& out, int64_t min, int64_t max) {
  int64_t value = 0;
  if (!convert(key, value, "an integer")) return;
  if (value < min || value > max) {
    errors_.add(pathOf(key),
                pathOf(key) + " must be between " + std::to_string(min) + " and " + std::to_string(max) +
                    " (got " + std::to_string(value) + ")",
                get(key));
    return;
  }
  out = value;
}

void MapReader::integer(const std::string& key, int& out, int64_t min, int64_t max) {
  int64_t value = out;
  integer(key, value, min, max);
  out = static_cast<int>(value);
}

void MapReader::optionalInteger(const std::string& key, std::optional<int64_t>& out, int64_t min,
                                int64_t max) {
  if (!has(key)) return;
  int64_t value = min - 1;
  integer(key, value, min, max);
  if (value >= min) out = value;
}

void MapReader::number(const std::string& key, double& out, double min, double max) {
  double value = 0;
  if (!convert(key, value, "a number")) return;
  if (value < min || value > max) {
    auto text = [](double v) {
      std::string s = std::to_string(v);
      s.erase(s.find_last_not_of('0') + 1);
      if (!s.empty() && s.back() == '.') s.pop_back();
      return s;
    };
    errors_.add(
        pathOf(key),
        pathOf(key) + " must be between " + text(min) + " and " + text(max) + " (got " + text(value) + ")",
        get(key));
    return;
  }
  out = value;
}

void MapReader::boolean(const std::string& key, bool& out) { convert(key, out, "true or false"); }

void MapReader::stringList(const std::string& key, std::vector<std::string>& out, bool required,
                           const std::string& hint) {
  if (!has(key)) {
    if (required)
      errors_.add(pathOf(key), pathOf(key) + " is required" + (hint.empty() ? "" : ": " + hint), node_);
    return;
  }
  const YAML::Node value = get(key);
  if (!value.IsSequence()) {
    errors_.add(pathOf(key), pathOf(key) + " must be a list of strings" + (hint.empty() ? "" : ": " + hint),
                value);
    return;
  }
  if (required && value.size() == 0) {
    errors_.add(pathOf(key), pathOf(key) + " must not be empty" + (hint.empty() ? "" : ": " + hint), value);
    return;
  }
  if (!withinCount(pathOf(key), value)) return;
  out.clear();
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string itemPath = pathOf(key) + "[" + std::to_string(i) + "]";
    if (!value[i].IsScalar() || value[i].Scalar().empty()) {
      errors_.add(itemPath, itemPath + " must be a non-empty string", value[i]);
      continue;
    }
    if (!withinLength(itemPath, value[i])) continue;
    out.push_back(value[i].Scalar());
  }
}

void MapReader::stringMap(const std::string& key, std::map<std::string, std::string>& out) {
  if (!has(key)) return;
  const YAML::Node value = get(key);
  if (!value.IsMap()) {
    errors_.add(pathOf(key), pathOf(key) + " must be a mapping of strings to strings", value);
    return;
  }
  if (!withinCount(pathOf(key), value)) return;
  for (const auto& item : value) {
    const std::string name = item.first.Scalar();
    if (name.empty() || name.size() > kMaxMapKeyLength) {
      errors_.add(pathOf(key),
                  pathOf(key) + " keys must be 1 to " + std::to_string(kMaxMapKeyLength) +
                      " characters (got '" + excerpt(name) + "')",
                  item.first);
      continue;
    }
    const std::string itemPath = pathOf(key) + "." + name;
    if (!item.second.IsScalar()) {
      errors_.add(itemPath, itemPath + " must be a string", item.second);
      continue;
    }
    if (!withinLength(itemPath, item.second, pathOf(key) + "{}")) continue;
    out[name] = item.second.Scalar();
  }
}

std::optional<MapReader> MapReader::child(const std::string& key) {
  if (!has(key)) return std::nullopt;
  MapReader reader(get(key), pathOf(key), errors_);
  if (!reader.valid()) return std::nullopt;
  return reader;
}

void MapReader::finish() {
  if (!valid_) return;
  const std::vector<std::string> candidates(known_.begin(), known_.end());
  for (const auto& item : node_) {
    const std::string key = item.first.Scalar();
    if (known_.count(key)) continue;
    if (key.size() > kMaxMapKeyLength) {
      errors_.add(path_,
                  (path_.empty() ? std::string("the document") : path_) + " has an unknown field '" +
                      excerpt(key) + "'",
                  item.first);
      continue;
    }
    std::string message = pathOf(key) + " is not a known field";
    if (auto close = common::closestMatch(key, candidates)) {
      message += " (did you mean " + *close + "?)";
    } else {
      std::string list;
      for (const auto& c : candidates) list += (list.empty() ? "" : ", ") + c;
      message += "; known fields here: " + list;
    }
    errors_.add(pathOf(key), message, item.first);
  }
}

}  // namespace sluice::spec::detail
