// FlagSet: kinf's flag parser; see flags.h.
//
// Reads from: argv. Feeds: subcommands.
#include "kinf/flags.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace kinf {

void FlagSet::Value(std::string name, std::string help,
                    std::function<bool(const std::string&)> parse) {
  flags_.push_back({std::move(name), std::move(help), true, std::move(parse)});
}

void FlagSet::String(std::string name, std::string help, std::string* out) {
  Value(std::move(name), std::move(help), [out](const std::string& v) {
    *out = v;
    return true;
  });
}

void FlagSet::Int(std::string name, std::string help, int64_t* out) {
  Value(std::move(name), std::move(help), [out](const std::string& v) {
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
    return ec == std::errc() && p == v.data() + v.size();
  });
}

void FlagSet::Double(std::string name, std::string help, double* out) {
  Value(std::move(name), std::move(help), [out](const std::string& v) {
    char* end = nullptr;
    *out = std::strtod(v.c_str(), &end);
    return !v.empty() && end == v.c_str() + v.size();
  });
}

void FlagSet::Bool(std::string name, std::string help, bool* out) {
  flags_.push_back({std::move(name), std::move(help), false, [out](const std::string& v) {
                      if (v.empty() || v == "true") {
                        *out = true;
                      } else if (v == "false") {
                        *out = false;
                      } else {
                        return false;
                      }
                      return true;
                    }});
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool FlagSet::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_ = true;
      PrintUsage(false);
      return true;
    }
    if (arg.rfind("--", 0) != 0) {
      std::fprintf(stderr, "kinf %s: unexpected argument %s\n", command_.c_str(), arg.c_str());
      PrintUsage(true);
      return false;
    }
    size_t eq = arg.find('=');
    std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const Flag* f = Find(name);
    if (!f) {
      std::fprintf(stderr, "kinf %s: unknown flag --%s\n", command_.c_str(), name.c_str());
      PrintUsage(true);
      return false;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (f->takes_value) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "kinf %s: --%s needs a value\n", command_.c_str(), name.c_str());
        return false;
      }
      value = args[++i];
    }
    if (!f->parse(value)) {
      std::fprintf(stderr, "kinf %s: bad value for --%s: %s\n", command_.c_str(), name.c_str(),
                   value.c_str());
      return false;
    }
  }
  return true;
}

void FlagSet::PrintUsage(bool to_stderr) const {
  FILE* out = to_stderr ? stderr : stdout;
  std::fprintf(out, "usage: kinf %s [flags]\n\nflags:\n", command_.c_str());
  for (const Flag& f : flags_) {
    std::fprintf(out, "  --%s%s\n      %s\n", f.name.c_str(), f.takes_value ? " VALUE" : "",
                 f.help.c_str());
  }
}

}  // namespace kinf
