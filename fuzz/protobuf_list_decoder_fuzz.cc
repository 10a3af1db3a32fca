// Fuzzes the client's streaming protobuf list decoder (src/client/protobuf_list_decoder.cc) and the
// objects that keep their protobuf message (DecodeProtobufObject, src/proto/object_decoder.cc).
//
// Input: the first byte picks the mode and the piece size; the rest is a protobuf body.
//   even: a list body, fed to ProtobufListDecoder in pieces of 1 + (byte >> 1) bytes;
//   odd:  an object body, decoded by DecodeProtobufObject.
//
// Invariants: nothing crashes and no exception escapes; a list the streaming decoder accepts is
// the list the whole-body path (ProtobufToJson, then DecodeList) gives, item for item; an object
// decodes exactly when ProtobufToJson + Object::Parse does, to an equal object; every object that
// keeps protobuf transcodes (json() is JSON that parses back to an equal object, path reads work)
// and DropManagedFields on it equals DropManagedFields on its JSON twin.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "client/protobuf_list_decoder.h"
#include "fuzz/fuzz_check.h"
#include "kube/object.h"
#include "kube/proto/protobuf.h"

namespace {

kube::ProtobufOptions Options() {
  kube::ProtobufOptions o;
  o.max_body_bytes = 1 << 20;
  o.max_json_bytes = 8 << 20;
  return o;
}

// `got` (from protobuf) is `want` (parsed from the transcoder's JSON).
void CheckSame(const kube::Object& got, const kube::Object& want) {
  FUZZ_CHECK(got.json() == want.json(), std::string(got.json()) + "\n" + std::string(want.json()));
  FUZZ_CHECK(got == want, "operator== disagrees with json()");
  FUZZ_CHECK(got.name() == want.name() && got.ns() == want.ns() && got.uid() == want.uid() &&
                 got.resource_version() == want.resource_version() &&
                 got.generation() == want.generation() &&
                 got.creation_timestamp() == want.creation_timestamp() &&
                 got.deletion_timestamp() == want.deletion_timestamp() &&
                 got.has_managed_fields() == want.has_managed_fields() &&
                 got.api_version() == want.api_version() && got.kind() == want.kind(),
             "metadata differ: " + std::string(want.json()));
  FUZZ_CHECK(std::vector(got.labels().begin(), got.labels().end()) ==
                     std::vector(want.labels().begin(), want.labels().end()) &&
                 std::vector(got.annotations().begin(), got.annotations().end()) ==
                     std::vector(want.annotations().begin(), want.annotations().end()) &&
                 std::vector(got.finalizers().begin(), got.finalizers().end()) ==
                     std::vector(want.finalizers().begin(), want.finalizers().end()) &&
                 got.owner_references().size() == want.owner_references().size(),
             "maps or lists differ: " + std::string(want.json()));
  auto a = got.GetJson("spec");
  auto b = want.GetJson("spec");
  FUZZ_CHECK(a.has_value() == b.has_value() && (!a || *a == *b), "spec differs");
  kube::ObjectPtr got_ptr(std::shared_ptr<const kube::Object>(), &got);  // aliasing, not owning
  kube::ObjectPtr want_ptr(std::shared_ptr<const kube::Object>(), &want);
  kube::ObjectPtr da = kube::DropManagedFields(got_ptr);
  kube::ObjectPtr db = kube::DropManagedFields(want_ptr);
  FUZZ_CHECK(da->json() == db->json(), "DropManagedFields differs: " + std::string(db->json()));
}

void List(std::string_view body, size_t piece) {
  kube::internal::ProtobufListDecoder decoder(Options());
  for (size_t i = 0; i < body.size(); i += piece) decoder.Feed(body.substr(i, piece));
  auto got = decoder.Finish();
  if (!got) return;
  auto json = kube::ProtobufToJson(body, Options());
  FUZZ_CHECK(json.has_value(), "the streaming decoder accepts a body the transcoder refuses: " +
                                   json.error().message());
  auto want = kube::DecodeList(*json);
  FUZZ_CHECK(want.has_value(),
             "the streaming decoder accepts a list DecodeList refuses: " + want.error().message());
  FUZZ_CHECK(got->items.size() == want->items.size(), "item counts differ");
  FUZZ_CHECK(got->resource_version == want->resource_version &&
                 got->continue_token == want->continue_token && got->kind == want->kind &&
                 got->api_version == want->api_version,
             "list metadata differ");
  for (size_t i = 0; i < got->items.size(); ++i) CheckSame(*got->items[i], *want->items[i]);
}

void Single(std::string_view body) {
  auto got = kube::DecodeProtobufObject(body, Options());
  auto json = kube::ProtobufToJson(body, Options());
  kube::Result<kube::ObjectPtr> want =
      json ? kube::Object::Parse(*json) : kube::Result<kube::ObjectPtr>(json.error());
  FUZZ_CHECK(got.has_value() == want.has_value(),
             got ? "decodes where the JSON path fails: " + want.error().message()
                 : "fails where the JSON path decodes: " + got.error().message());
  if (!got) return;
  CheckSame(**got, **want);
  auto again = kube::Object::Parse((*got)->json());
  FUZZ_CHECK(again.has_value() && **again == **got, "json() does not parse back");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = kube::fuzz::AsText(data, size);
  const uint8_t mode = kube::fuzz::TakeByte(&input);
  if (mode % 2 == 0) {
    List(input, 1 + (mode >> 1));
  } else {
    Single(input);
  }
  return 0;
}
