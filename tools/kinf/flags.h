// A small `--name=value` / `--name value` flag parser shared by kinf's subcommands.
//
// Reads from: argv. Feeds: each subcommand's options.
#ifndef KUBE_TOOLS_KINF_FLAGS_H_
#define KUBE_TOOLS_KINF_FLAGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kinf {

class FlagSet {
 public:
  explicit FlagSet(std::string command) : command_(std::move(command)) {}

  // Registers a flag that takes a value. `parse` returns false for a bad value.
  void Value(std::string name, std::string help, std::function<bool(const std::string&)> parse);
  // Helpers for the common value types.
  void String(std::string name, std::string help, std::string* out);
  void Int(std::string name, std::string help, int64_t* out);
  void Double(std::string name, std::string help, double* out);
  // A flag without a value (`--name`, or `--name=true|false`).
  void Bool(std::string name, std::string help, bool* out);

  // Parses `args`; on error prints the problem and usage to stderr and returns false. `--help`
  // prints usage to stdout and sets `help_requested()`.
  bool Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_; }
  void PrintUsage(bool to_stderr) const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    bool takes_value;
    std::function<bool(const std::string&)> parse;
  };
  const Flag* Find(const std::string& name) const;

  std::string command_;
  std::vector<Flag> flags_;
  bool help_ = false;
};

}  // namespace kinf

#endif  // KUBE_TOOLS_KINF_FLAGS_H_
