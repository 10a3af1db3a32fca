// Reading a YAML stream with yaml-cpp without its endless loop (header only, target
// kube_informer_yaml: used by the kubeconfig loader in kube_informer_client and by the manifest
// loader in kube_informer_server, both of which link it and yaml-cpp PRIVATE).
//
// Reads from: kubeconfig files, `--seed` manifests, YAML request bodies. Feeds: a
// `YAML::EventHandler` (the caller's).
//
// Why: `YAML::LoadAll` in yaml-cpp 0.7 (Debian 12) never returns on some inputs as small as one
// byte (`,`), and grows memory while it spins (found by manifest_fuzz; a known yaml-cpp defect,
// fixed upstream after 0.8). Its parser, at the top of a document,
// meets a token no node can start with (a flow-collection `,`, or one left over after a document:
// `[a],`, `- a\n,`), reports an empty document and consumes nothing; `LoadAll` then asks for the
// next document at the same token, forever. `YAML::Load` reads one document and so returns, but
// ignores the rest of the text. Inside a document the parser always moves on or throws.
#ifndef KUBE_YAML_YAML_STREAM_H_
#define KUBE_YAML_YAML_STREAM_H_

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>

namespace kube::internal {

// Forwards every event to the caller's handler and throws `YAML::ParserException` when a document
// starts where the previous one started: the parser consumed nothing, and would not next time.
class NoStallEventHandler final : public YAML::EventHandler {
 public:
  NoStallEventHandler(std::string_view text, YAML::EventHandler& inner)
      : text_(text), inner_(inner) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (mark.pos == last_start_) {
      std::string msg = "no YAML node can start here";
      if (mark.pos >= 0 && static_cast<size_t>(mark.pos) < text_.size()) {
        char c = text_[static_cast<size_t>(mark.pos)];
        if (c > ' ' && c < 0x7f) msg = std::string("unexpected '") + c + "': " + msg;
      }
      throw YAML::ParserException(mark, msg);
    }
    last_start_ = mark.pos;
    inner_.OnDocumentStart(mark);
  }
  void OnDocumentEnd() override { inner_.OnDocumentEnd(); }
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    inner_.OnNull(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    inner_.OnAlias(mark, anchor);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    inner_.OnScalar(mark, tag, anchor, value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    inner_.OnSequenceStart(mark, tag, anchor, style);
  }
  void OnSequenceEnd() override { inner_.OnSequenceEnd(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    inner_.OnMapStart(mark, tag, anchor, style);
  }
  void OnMapEnd() override { inner_.OnMapEnd(); }
  void OnAnchor(const YAML::Mark& mark, const std::string& anchor_name) override {
    inner_.OnAnchor(mark, anchor_name);
  }

 private:
  std::string_view text_;
  YAML::EventHandler& inner_;
  int last_start_ = -1;
};

// An EventHandler that ignores everything: `ParseYamlStream(text, ignore)` only checks `text`.
class IgnoreYamlEvents final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// Parses up to `max_documents` documents of `text` (all by default), handing their events to
// `handler`, as `YAML::LoadAll` does. Where LoadAll would loop forever it throws
// `YAML::ParserException` ("unexpected ','"), with the position; yaml-cpp's own syntax errors
// are thrown as `YAML::ParserException` too, and `handler` may throw. Blocks for the parse only.
inline void ParseYamlStream(std::string_view text, YAML::EventHandler& handler,
                            size_t max_documents = std::numeric_limits<size_t>::max()) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  NoStallEventHandler guard(text, handler);
  for (size_t n = 0; n < max_documents && parser.HandleNextDocument(guard); ++n) {
  }
}

}  // namespace kube::internal

#endif  // KUBE_YAML_YAML_STREAM_H_
