// kinf's client flags, connection and resource resolution; see client_flags.h.
#include "kinf/client_flags.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "base/strings.h"
#include "kube/client/discovery.h"
#include "kube/config/kubeconfig.h"
#include "kube/informers/typed.h"
#include "kube/labels.h"

namespace kinf {
namespace {

// Short names of the built-in kinds, for when discovery cannot be read (kubectl's table).
const std::map<std::string, std::string, std::less<>>& ShortNames() {
  static const auto* names = new std::map<std::string, std::string, std::less<>>{
      {"po", "pods"},
      {"svc", "services"},
      {"ep", "endpoints"},
      {"cm", "configmaps"},
      {"no", "nodes"},
      {"ev", "events"},
      {"sa", "serviceaccounts"},
      {"ns", "namespaces"},
      {"deploy", "deployments"},
      {"rs", "replicasets"},
      {"sts", "statefulsets"},
      {"ds", "daemonsets"},
      {"cj", "cronjobs"},
  };
  return *names;
}

// RESOURCE against the built-in kinds: plural, singular, short name or kind, optionally
// `.group`; else a `resource.version.group` spelling taken as a namespaced custom resource.
std::optional<Target> BuiltinTarget(std::string_view name) {
  std::string token = kube::internal::AsciiLower(name.substr(0, name.find('.')));
  std::string group;
  if (size_t dot = name.find('.'); dot != std::string_view::npos)
    group = kube::internal::AsciiLower(name.substr(dot + 1));
  if (auto it = ShortNames().find(token); it != ShortNames().end()) token = it->second;
  for (const kube::KindInfo& k : kube::TypedKinds()) {
    bool named =
        token == k.resource || token == k.singular || token == kube::internal::AsciiLower(k.kind);
    bool grouped = group.empty() || group == k.group ||
                   group == std::string(k.version) + "." + std::string(k.group);
    if (named && grouped) {
      return Target{nullptr, k.gvr(), std::string(k.kind), k.namespaced, ""};
    }
  }
  // `foos.v1.example.com`: version then group.
  size_t dot = group.find('.');
  if (dot != std::string::npos && dot > 0) {
    return Target{nullptr, {group.substr(dot + 1), group.substr(0, dot), token}, "", true, ""};
  }
  return std::nullopt;
}

// The namespace of the kubeconfig's current context, if any.
std::string ContextNamespace(const ClientFlags& flags) {
  kube::Result<kube::Kubeconfig> kc =
      kube::LoadKubeconfigFiles({.explicit_path = flags.kubeconfig});
  if (!kc) return "";
  auto it = kc->contexts.find(kc->current_context);
  return it == kc->contexts.end() ? "" : it->second.ns;
}

}  // namespace

std::optional<int> ParseClientFlags(
    const std::string& command, const std::vector<std::string>& args, ClientFlags* flags,
    const std::function<void(FlagSet&)>& extra,
    const std::vector<std::pair<char, std::string>>& extra_value_flags) {
  FlagSet set(command + " RESOURCE");
  set.String("namespace", "(-n) the namespace to cache (default: the context's, else default)",
             &flags->ns);
  set.Bool("all-namespaces", "(-A) every namespace", &flags->all_namespaces);
  set.String("selector", "(-l) label selector, e.g. app=web,tier!=db (applied by the server)",
             &flags->selector);
  set.String("kubeconfig",
             "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config; "
             "in a pod, the service account first)",
             &flags->kubeconfig);
  set.String("server", "API server URL: plain http, or https with the kubeconfig's credentials",
             &flags->server);
  set.Bool("protobuf",
           "read built-in kinds in Kubernetes' protobuf encoding, as kubectl does "
           "(default true; --protobuf=false reads JSON)",
           &flags->protobuf);
  if (extra) extra(set);

  std::map<char, std::string> shorts = {{'n', "namespace"}, {'l', "selector"}};
  std::set<std::string> value_flags = {"namespace", "selector", "kubeconfig", "server"};
  for (const auto& [c, name] : extra_value_flags) {
    if (c != '\0') shorts[c] = name;
    value_flags.insert(name);
  }

  // Rewrite kubectl's short forms into the FlagSet's `--name=value` and pull out RESOURCE.
  std::vector<std::string> rewritten;
  std::vector<std::string> positional;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-A") {
      rewritten.push_back("--all-namespaces");
    } else if (a.size() >= 2 && a[0] == '-' && a[1] != '-' && shorts.count(a[1])) {
      const std::string& name = shorts[a[1]];
      if (a.size() > 2) {
        rewritten.push_back("--" + name + "=" + a.substr(a[2] == '=' ? 3 : 2));
      } else if (i + 1 < args.size()) {
        rewritten.push_back("--" + name + "=" + args[++i]);
      } else {
        std::fprintf(stderr, "kinf %s: -%c needs a value\n", command.c_str(), a[1]);
        return 2;
      }
    } else if (a.rfind("--", 0) == 0) {
      rewritten.push_back(a);
      // `--name value`: keep the value with its flag.
      if (a.find('=') == std::string::npos && value_flags.count(a.substr(2)) &&
          i + 1 < args.size()) {
        rewritten.push_back(args[++i]);
      }
    } else if (a == "-h") {
      rewritten.push_back(a);
    } else if (!a.empty() && a[0] != '-') {
      positional.push_back(a);
    } else {
      rewritten.push_back(a);  // the FlagSet reports it
    }
  }
  if (!set.Parse(rewritten)) return 2;
  if (set.help_requested()) return 0;
  if (positional.size() != 1) {
    std::fprintf(stderr,
                 "kinf %s: expected one RESOURCE (e.g. pods, deploy, leases.coordination.k8s.io)\n",
                 command.c_str());
    set.PrintUsage(true);
    return 2;
  }
  flags->resource = positional[0];
  if (!flags->selector.empty()) {
    kube::Result<kube::LabelSelector> sel = kube::LabelSelector::Parse(flags->selector);
    if (!sel) {
      std::fprintf(stderr, "kinf %s: -l %s: %s\n", command.c_str(), flags->selector.c_str(),
                   sel.error().message().c_str());
      return 2;
    }
  }
  return std::nullopt;
}

kube::Result<Target> ResolveTarget(const ClientFlags& flags) {
  kube::Result<kube::RestConfig> config =
      kube::BuildConfigFromFlags(flags.server, flags.kubeconfig);
  if (!config) return config.error();
  kube::HttpClientOptions options;
  options.prefer_protobuf = flags.protobuf;
  kube::Result<std::shared_ptr<kube::HttpClient>> client =
      kube::MakeCurlHttpClient(*config, options);
  if (!client) return client.error();

  Target target;
  kube::DiscoveryClient discovery(*client);
  kube::Result<kube::ResourceMapping> mapping = discovery.ResourceFor(flags.resource);
  if (mapping) {
    target = Target{nullptr, mapping->resource, mapping->kind.kind, mapping->namespaced, ""};
  } else if (kube::IsNotFound(mapping.error()) && mapping.error().http_code() == 0) {
    return mapping.error();  // discovery was read: the server does not serve it
  } else if (std::optional<Target> builtin = BuiltinTarget(flags.resource)) {
    target = *builtin;
  } else {
    return mapping.error();
  }
  target.client = *client;
  if (target.namespaced && !flags.all_namespaces) {
    target.ns = flags.ns;
    if (target.ns.empty()) target.ns = ContextNamespace(flags);
    if (target.ns.empty()) target.ns = "default";
  }
  return target;
}

std::unique_ptr<kube::SharedInformerFactory> MakeFactory(const Target& target,
                                                         const ClientFlags& flags) {
  kube::SharedInformerFactoryOptions options;
  options.ns = target.ns;
  options.name = "kinf";
  if (!flags.snapshot_dir.empty()) {
    options.snapshot_dir = flags.snapshot_dir;
    options.snapshot_interval =
        std::chrono::milliseconds(static_cast<int64_t>(flags.snapshot_interval_seconds * 1000));
  }
  if (!flags.selector.empty()) {
    options.tweak_list_options = [selector = flags.selector](kube::ListOptions& o) {
      o.label_selector = selector;
    };
  }
  return kube::SharedInformerFactory::Create(target.client, std::move(options));
}

std::string ObjectKey(const kube::Object& obj) {
  if (obj.ns().empty()) return std::string(obj.name());
  return std::string(obj.ns()) + "/" + std::string(obj.name());
}

void PrintError(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "kinf %s: %s\n", command.c_str(), message.c_str());
}

}  // namespace kinf
