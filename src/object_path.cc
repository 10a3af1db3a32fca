#include "object_path.h"

#include <cstdint>
#include <string>
#include <vector>

#include "json/scan.h"

namespace kube::internal {
namespace {

constexpr size_t kMaxIndexDigits = 18;  // fits size_t with room to spare

struct Step {
  std::string key;
  bool is_index = false;  // all digits: may index an array
  size_t index = 0;
  size_t path_end = 0;  // the path up to and including this step is path[0, path_end)
};

void SetIndex(Step* step) {
  const std::string& k = step->key;
  if (k.empty() || k.size() > kMaxIndexDigits) return;
  if (k.size() > 1 && k[0] == '0') return;
  size_t v = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  step->is_index = true;
  step->index = v;
}

Status BadPath(std::string_view path, std::string_view why) {
  return InvalidArgumentError("invalid path \"" + std::string(path) + "\": " + std::string(why));
}

Status ParsePointer(std::string_view path, std::vector<Step>* steps) {
  size_t i = 0;
  while (i < path.size()) {  // path[i] == '/'
    Step step;
    size_t j = i + 1;
    for (; j < path.size() && path[j] != '/'; ++j) {
      char c = path[j];
      if (c != '~') {
        step.key.push_back(c);
        continue;
      }
      char e = j + 1 < path.size() ? path[j + 1] : '\0';
      if (e != '0' && e != '1') return BadPath(path, "'~' must be followed by '0' or '1'");
      step.key.push_back(e == '0' ? '~' : '/');
      ++j;
    }
    SetIndex(&step);
    if (step.key == "-") {  // RFC 6901: the element after the last, which never exists
      step.is_index = true;
      step.index = SIZE_MAX;
    }
    step.path_end = j;
    steps->push_back(std::move(step));
    i = j;
  }
  return Status();
}

Status ParseDotted(std::string_view path, std::vector<Step>* steps) {
  size_t i = 0;
  if (!path.empty() && path[0] == '.') i = 1;
  if (i == path.size()) return BadPath(path, "empty");
  while (i < path.size()) {
    Step step;
    if (path[i] == '[') {
      size_t close = path.find(']', i + 1);
      if (close == std::string_view::npos) return BadPath(path, "'[' without ']'");
      if (close == i + 1) return BadPath(path, "empty []");
      step.key.assign(path.substr(i + 1, close - i - 1));
      SetIndex(&step);
      i = close + 1;
    } else {
      size_t end = path.find_first_of(".[]", i);
      if (end == std::string_view::npos) end = path.size();
      if (end == i) return BadPath(path, "empty name");
      if (end < path.size() && path[end] == ']') return BadPath(path, "']' without '['");
      step.key.assign(path.substr(i, end - i));
      i = end;
    }
    step.path_end = i;
    steps->push_back(std::move(step));
    if (i < path.size() && path[i] == '.') {
      ++i;
      if (i == path.size()) return BadPath(path, "ends with '.'");
    } else if (i < path.size() && path[i] != '[') {
      return BadPath(path, "expected '.' or '[' after ']'");
    }
  }
  return Status();
}

}  // namespace

Result<std::string_view> FindPath(std::string_view json, std::string_view path) {
  std::vector<Step> steps;
  Status st = !path.empty() && path[0] == '/' ? ParsePointer(path, &steps)
              : path.empty()                  ? Status()
                                              : ParseDotted(path, &steps);
  if (!st.ok()) return st;
  size_t begin = 0;
  size_t end = json.size();
  for (size_t k = 0; k < steps.size(); ++k) {
    const Step& step = steps[k];
    std::string_view where =
        k == 0 ? std::string_view("the top level") : path.substr(0, steps[k - 1].path_end);
    JsonType type = json::TypeOf(json.substr(begin, end - begin));
    bool found = false;
    bool walked = true;
    if (type == JsonType::kObject) {
      walked = json::ForEachMember(json, begin, [&](const json::Member& m) {
        if (!json::KeyEquals(m.key_body, step.key)) return true;
        begin = m.value_begin;
        end = m.value_end;
        found = true;
        return false;
      });
    } else if (type == JsonType::kArray && step.is_index) {
      walked = json::ForEachElement(json, begin, [&](size_t i, size_t b, size_t e) {
        if (i < step.index) return true;
        begin = b;
        end = e;
        found = true;
        return false;
      });
    } else {
      std::string msg(where);
      msg += " is ";
      msg += json::TypeWithArticle(type);
      msg += type == JsonType::kArray ? ", not an object (index arrays with [N])"
                                      : ", not an object or array";
      msg += " in path \"" + std::string(path) + "\"";
      return InvalidArgumentError(std::move(msg));
    }
    if (!walked) return InternalError("object JSON is not minified valid JSON");
    if (!found) {
      std::string msg = "path \"" + std::string(path) + "\" not found: ";
      msg += type == JsonType::kArray ? "no index " + step.key + " in "
                                      : "no \"" + step.key + "\" in ";
      msg += where;
      return NotFoundError(std::move(msg));
    }
  }
  return json.substr(begin, end - begin);
}

}  // namespace kube::internal
