#include "object_metadata.h"

#include <charconv>

#include "json/scan.h"
#include "kube/object.h"

namespace kube::internal {

using json::Member;

void MetadataIndex::Clear() {
  has_api_version = has_kind = false;
  api_version = kind = name = ns = generate_name = uid = resource_version = creation_timestamp =
      deletion_timestamp = TextRef{};
  generation = 0;
  labels.clear();
  annotations.clear();
  owner_references.clear();
  finalizers.clear();
  has_managed_fields = false;
  managed_fields_cut_begin = managed_fields_cut_end = 0;
  arena.clear();
}

namespace {

Status WrongType(std::string_view field, JsonType got, std::string_view want) {
  std::string msg(field);
  msg += " is ";
  msg += json::TypeWithArticle(got);
  msg += ", not ";
  msg += want;
  return InvalidArgumentError(std::move(msg));
}

// Metadata strings are short: a plain loop beats a memchr call.
bool HasBackslash(std::string_view s) {
  bool found = false;
  for (char c : s) found |= c == '\\';
  return found;
}

template <typename Walker>
class Indexer {
 public:
  Indexer(const Walker& walker, MetadataIndex* md) : w_(walker), t_(walker.text()), md_(md) {}

  Status Run() {
    if (t_.empty() || t_[0] != '{') {
      return WrongType("JSON top level", json::TypeOf(t_), "an object");
    }
    Status st;
    bool seen_meta = false;
    bool ok = w_.ForEachMember(0, [&](const Member& m) {
      if (!md_->has_api_version && json::KeyEquals(m.key_body, "apiVersion")) {
        md_->has_api_version = true;
        st = ReadString(m, "apiVersion", &md_->api_version);
      } else if (!md_->has_kind && json::KeyEquals(m.key_body, "kind")) {
        md_->has_kind = true;
        st = ReadString(m, "kind", &md_->kind);
      } else if (!seen_meta && json::KeyEquals(m.key_body, "metadata")) {
        seen_meta = true;
        st = ReadObjectMeta(m);
      }
      // Everything after these three (spec, status: most of the bytes) is left unread.
      return st.ok() && !(md_->has_api_version && md_->has_kind && seen_meta);
    });
    if (!st.ok()) return st;
    return ok ? Status() : Corrupt();
  }

 private:
  static Status Corrupt() { return InternalError("object JSON is not minified valid JSON"); }

  std::string_view Value(const Member& m) const {
    return t_.substr(m.value_begin, m.value_end - m.value_begin);
  }

  // A string literal spanning [begin, end), quotes included.
  TextRef Text(size_t begin, size_t end) {
    std::string_view body = t_.substr(begin + 1, end - begin - 2);
    if (!HasBackslash(body)) {
      return TextRef{static_cast<uint32_t>(begin + 1), static_cast<uint32_t>(body.size()), false};
    }
    size_t off = md_->arena.size();
    json::AppendUnescaped(body, &md_->arena);
    return TextRef{static_cast<uint32_t>(off), static_cast<uint32_t>(md_->arena.size() - off),
                   true};
  }

  std::string_view Resolve(const TextRef& r) const {
    return r.decoded ? std::string_view(md_->arena).substr(r.off, r.len) : t_.substr(r.off, r.len);
  }

  Status ReadString(const Member& m, std::string_view field, TextRef* out) {
    JsonType type = json::TypeOf(Value(m));
    if (type == JsonType::kNull) return Status();
    if (type != JsonType::kString) return WrongType(field, type, "a string");
    *out = Text(m.value_begin, m.value_end);
    return Status();
  }

  Status ReadBool(const Member& m, std::string_view field, bool* out) {
    JsonType type = json::TypeOf(Value(m));
    if (type == JsonType::kNull) return Status();
    if (type != JsonType::kBool) return WrongType(field, type, "a boolean");
    *out = t_[m.value_begin] == 't';
    return Status();
  }

  Status ReadStringMap(const Member& m, std::string_view field,
                       std::vector<std::pair<TextRef, TextRef>>* out) {
    JsonType type = json::TypeOf(Value(m));
    if (type == JsonType::kNull) return Status();
    if (type != JsonType::kObject) return WrongType(field, type, "an object");
    Status st;
    bool ok = w_.ForEachMember(m.value_begin, [&](const Member& e) {
      TextRef key = Text(e.key_begin, e.value_begin - 1);
      JsonType vt = json::TypeOf(Value(e));
      TextRef value;
      if (vt == JsonType::kString) {
        value = Text(e.value_begin, e.value_end);
      } else if (vt != JsonType::kNull) {  // Go's decoder leaves "" for null, so do we
        st = WrongType(std::string(field) + "[" + JsonQuote(Resolve(key)) + "]", vt, "a string");
        return false;
      }
      out->emplace_back(key, value);
      return true;
    });
    if (!st.ok()) return st;
    return ok ? Status() : Corrupt();
  }

  Status ReadOwnerReferences(const Member& m) {
    JsonType type = json::TypeOf(Value(m));
    if (type == JsonType::kNull) return Status();
    if (type != JsonType::kArray) return WrongType("metadata.ownerReferences", type, "an array");
    Status st;
    bool ok = w_.ForEachElement(m.value_begin, [&](size_t i, size_t b, size_t e) {
      std::string field = "metadata.ownerReferences[" + std::to_string(i) + "]";
      JsonType et = json::TypeOf(t_.substr(b, e - b));
      if (et != JsonType::kObject) {
        st = WrongType(field, et, "an object");
        return false;
      }
      OwnerRefIndex ref;
      bool inner_ok = w_.ForEachMember(b, [&](const Member& f) {
        if (json::KeyEquals(f.key_body, "apiVersion")) {
          st = ReadString(f, field + ".apiVersion", &ref.api_version);
        } else if (json::KeyEquals(f.key_body, "kind")) {
          st = ReadString(f, field + ".kind", &ref.kind);
        } else if (json::KeyEquals(f.key_body, "name")) {
          st = ReadString(f, field + ".name", &ref.name);
        } else if (json::KeyEquals(f.key_body, "uid")) {
          st = ReadString(f, field + ".uid", &ref.uid);
        } else if (json::KeyEquals(f.key_body, "controller")) {
          st = ReadBool(f, field + ".controller", &ref.controller);
        } else if (json::KeyEquals(f.key_body, "blockOwnerDeletion")) {
          st = ReadBool(f, field + ".blockOwnerDeletion", &ref.block_owner_deletion);
        }
        return st.ok();
      });
      if (!inner_ok) st = Corrupt();
      if (!st.ok()) return false;
      md_->owner_references.push_back(ref);
      return true;
    });
    if (!st.ok()) return st;
    return ok ? Status() : Corrupt();
  }

  Status ReadFinalizers(const Member& m) {
    JsonType type = json::TypeOf(Value(m));
    if (type == JsonType::kNull) return Status();
    if (type != JsonType::kArray) return WrongType("metadata.finalizers", type, "an array");
    Status st;
    bool ok = w_.ForEachElement(m.value_begin, [&](size_t i, size_t b, size_t e) {
      JsonType et = json::TypeOf(t_.substr(b, e - b));
      if (et != JsonType::kString) {
        st = WrongType("metadata.finalizers[" + std::to_string(i) + "]", et, "a string");
        return false;
      }
      md_->finalizers.push_back(Text(b, e));
      return true;
    });
    if (!st.ok()) return st;
    return ok ? Status() : Corrupt();
  }

  Status ReadGeneration(const Member& m) {
    std::string_view v = Value(m);
    JsonType type = json::TypeOf(v);
    if (type == JsonType::kNull) return Status();
    if (type != JsonType::kInt) return WrongType("metadata.generation", type, "an integer");
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), md_->generation);
    if (ec != std::errc() || end != v.data() + v.size()) {
      return InvalidArgumentError("metadata.generation " + std::string(v) +
                                  " is out of the int64 range");
    }
    return Status();
  }

  void NoteManagedFields(const Member& m) {
    md_->has_managed_fields = true;
    size_t begin = m.key_begin;
    size_t end = m.value_end;
    if (t_[begin - 1] == ',') {
      --begin;
    } else if (t_[end] == ',') {
      ++end;
    }
    md_->managed_fields_cut_begin = static_cast<uint32_t>(begin);
    md_->managed_fields_cut_end = static_cast<uint32_t>(end);
  }

  Status ReadObjectMeta(const Member& meta) {
    JsonType type = json::TypeOf(Value(meta));
    if (type == JsonType::kNull) return Status();
    if (type != JsonType::kObject) return WrongType("metadata", type, "an object");
    Status st;
    // Each field is taken from its first occurrence, as simdjson's `at_key` would.
    uint32_t seen = 0;
    auto first = [&seen](uint32_t bit) {
      bool is_first = (seen & bit) == 0;
      seen |= bit;
      return is_first;
    };
    bool ok = w_.ForEachMember(meta.value_begin, [&](const Member& m) {
      std::string_view k = m.key_body;
      if (k.find('\\') != std::string_view::npos) {
        // Escaped keys are legal but never sent by a server; decode and go the slow way.
        std::string decoded;
        json::AppendUnescaped(k, &decoded);
        st = ReadMetaField(m, decoded, first);
      } else {
        st = ReadMetaField(m, k, first);
      }
      return st.ok();
    });
    if (!st.ok()) return st;
    return ok ? Status() : Corrupt();
  }

  template <typename First>
  Status ReadMetaField(const Member& m, std::string_view k, First& first) {
    if (k == "name") {
      if (first(1u << 0)) return ReadString(m, "metadata.name", &md_->name);
    } else if (k == "namespace") {
      if (first(1u << 1)) return ReadString(m, "metadata.namespace", &md_->ns);
    } else if (k == "uid") {
      if (first(1u << 2)) return ReadString(m, "metadata.uid", &md_->uid);
    } else if (k == "resourceVersion") {
      if (first(1u << 3)) return ReadString(m, "metadata.resourceVersion", &md_->resource_version);
    } else if (k == "generateName") {
      if (first(1u << 4)) return ReadString(m, "metadata.generateName", &md_->generate_name);
    } else if (k == "generation") {
      if (first(1u << 5)) return ReadGeneration(m);
    } else if (k == "creationTimestamp") {
      if (first(1u << 6)) {
        return ReadString(m, "metadata.creationTimestamp", &md_->creation_timestamp);
      }
    } else if (k == "deletionTimestamp") {
      if (first(1u << 7)) {
        return ReadString(m, "metadata.deletionTimestamp", &md_->deletion_timestamp);
      }
    } else if (k == "labels") {
      if (first(1u << 8)) return ReadStringMap(m, "metadata.labels", &md_->labels);
    } else if (k == "annotations") {
      if (first(1u << 9)) return ReadStringMap(m, "metadata.annotations", &md_->annotations);
    } else if (k == "ownerReferences") {
      if (first(1u << 10)) return ReadOwnerReferences(m);
    } else if (k == "finalizers") {
      if (first(1u << 11)) return ReadFinalizers(m);
    } else if (k == "managedFields") {
      if (first(1u << 12)) {
        JsonType type = json::TypeOf(Value(m));
        if (type != JsonType::kArray && type != JsonType::kNull) {
          return WrongType("metadata.managedFields", type, "an array");
        }
        NoteManagedFields(m);
      }
    }
    return Status();
  }

  const Walker& w_;
  std::string_view t_;
  MetadataIndex* md_;
};

}  // namespace

Status IndexMetadata(std::string_view json, MetadataIndex* md) {
  md->Clear();
  json::ByteWalker walker(json);
  return Indexer<json::ByteWalker>(walker, md).Run();
}

Status IndexMetadata(std::string_view json, const uint32_t* tokens, const uint32_t* closes,
                     size_t token_count, MetadataIndex* md) {
  md->Clear();
  json::TokenWalker walker(json, tokens, closes, token_count);
  return Indexer<json::TokenWalker>(walker, md).Run();
}

}  // namespace kube::internal
