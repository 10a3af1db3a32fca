// Tests of kubeconfig loading (clientcmd's rules), in-cluster config, the fallback orders and
// RedactedString. Every test runs with HOME in a fresh temporary folder and KUBECONFIG and the
// in-cluster variables unset.
#include "kube/config/kubeconfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kube/config/rest_config.h"

namespace kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Credentials used by the tests; no error or RedactedString output may contain them.
constexpr char kToken[] = "tok-SECRET-5f3a9c";
constexpr char kOtherToken[] = "tok-SECRET-other-77";
constexpr char kPassword[] = "pw-SECRET-hunter2";
constexpr char kKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\nKEY-SECRET-abcdef\n-----END PRIVATE KEY-----\n";
constexpr char kCertPem[] = "-----BEGIN CERTIFICATE-----\nclient-cert\n-----END CERTIFICATE-----\n";
constexpr char kCaPem[] = "-----BEGIN CERTIFICATE-----\ncluster-ca\n-----END CERTIFICATE-----\n";

std::string B64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

void ExpectNoSecrets(const std::string& text) {
  for (const std::string& secret :
       {std::string(kToken), std::string(kOtherToken), std::string(kPassword),
        std::string("KEY-SECRET"), B64(kKeyPem), B64(kToken)}) {
    EXPECT_THAT(text, Not(HasSubstr(secret)));
  }
}

// Sets environment variables for one test and restores them afterwards.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  void Set(const std::string& name, const std::string& value) {
    Save(name);
    setenv(name.c_str(), value.c_str(), 1);
  }
  void Unset(const std::string& name) {
    Save(name);
    unsetenv(name.c_str());
  }

 private:
  void Save(const std::string& name) {
    if (saved_.count(name) != 0) return;
    const char* v = getenv(name.c_str());
    saved_[name] = v == nullptr ? std::nullopt : std::optional<std::string>(v);
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kinf-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    home_ = dir_ + "/home";
    std::filesystem::create_directories(home_ + "/.kube");
    env_.Set("HOME", home_);
    env_.Unset("KUBECONFIG");
    env_.Unset("KUBERNETES_SERVICE_HOST");
    env_.Unset("KUBERNETES_SERVICE_PORT");
    env_.Unset("KUBE_INFORMER_SERVICEACCOUNT_DIR");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `content` at `rel` under the test folder (creating folders) and returns its path.
  std::string Write(const std::string& rel, const std::string& content) {
    std::filesystem::path p = std::filesystem::path(dir_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
    return p.string();
  }

  // A service-account folder as a kubelet mounts it.
  std::string WriteServiceAccount(const std::string& token, bool with_ca = true) {
    Write("sa/token", token);
    if (with_ca) Write("sa/ca.crt", kCaPem);
    return dir_ + "/sa";
  }

  void EnterCluster(const std::string& host = "10.96.0.1", const std::string& port = "443") {
    env_.Set("KUBERNETES_SERVICE_HOST", host);
    env_.Set("KUBERNETES_SERVICE_PORT", port);
  }

  std::string dir_;
  std::string home_;
  ScopedEnv env_;
};

// A kubeconfig with one entry of every kind.
std::string FullKubeconfig() {
  return std::string(R"(apiVersion: v1
kind: Config
current-context: dev
preferences: {}
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
    certificate-authority-data: )") +
         B64(kCaPem) + R"(
    tls-server-name: api.dev.example
    proxy-url: http://proxy.example:3128
    disable-compression: true
- name: insecure-cluster
  cluster:
    server: https://insecure.example
    insecure-skip-tls-verify: true
users:
- name: token-user
  user:
    token: )" +
         kToken +
         R"(
- name: cert-user
  user:
    client-certificate-data: )" +
         B64(kCertPem) + R"(
    client-key-data: )" +
         B64(kKeyPem) + R"(
- name: basic-user
  user:
    username: alice
    password: )" +
         kPassword +
         R"(
    as: bob
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: my-plugin
      args: [get-token, --cluster, dev]
      env:
      - name: FOO
        value: bar
      installHint: install my-plugin from example.com
      provideClusterInfo: true
      interactiveMode: Never
contexts:
- name: dev
  context: {cluster: dev-cluster, user: token-user, namespace: team-a}
- name: cert
  context: {cluster: dev-cluster, user: cert-user}
- name: basic
  context: {cluster: dev-cluster, user: basic-user}
- name: exec
  context: {cluster: dev-cluster, user: exec-user}
- name: insecure
  context: {cluster: insecure-cluster, user: token-user}
- name: anonymous
  context: {cluster: dev-cluster}
)";
}

// A one-context kubeconfig: context `name` -> cluster `name` (server) -> user `name` (token).
std::string SmallKubeconfig(const std::string& name, const std::string& server,
                            const std::string& token, const std::string& current = "") {
  std::string out = "clusters:\n- name: " + name + "\n  cluster:\n    server: " + server +
                    "\nusers:\n- name: " + name + "\n  user:\n    token: " + token +
                    "\ncontexts:\n- name: " + name + "\n  context:\n    cluster: " + name +
                    "\n    user: " + name + "\n";
  if (!current.empty()) out += "current-context: " + current + "\n";
  return out;
}

// --- Fields ------------------------------------------------------------------------------------

TEST_F(KubeconfigTest, LoadsCurrentContextFromHomeConfig) {
  std::string path = Write("home/.kube/config", FullKubeconfig());
  Result<RestConfig> c = LoadKubeconfig();
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://dev.example:6443");
  EXPECT_EQ(c->ca_data, kCaPem);
  EXPECT_EQ(c->ca_file, "");
  EXPECT_EQ(c->tls_server_name, "api.dev.example");
  EXPECT_EQ(c->proxy_url, "http://proxy.example:3128");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->bearer_token, kToken);
  EXPECT_EQ(c->bearer_token_file, "");
  EXPECT_EQ(c->username, "");
  EXPECT_FALSE(c->exec.has_value());
  EXPECT_THAT(c->source, HasSubstr(path));
  EXPECT_THAT(c->source, HasSubstr("context dev"));
  ExpectNoSecrets(c->source);
}

TEST_F(KubeconfigTest, ContextOptionSelectsClientCertificateUser) {
  Write("home/.kube/config", FullKubeconfig());
  Result<RestConfig> c = LoadKubeconfig({.context = "cert"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->client_certificate_data, kCertPem);
  EXPECT_EQ(c->client_key_data, kKeyPem);
  EXPECT_EQ(c->client_certificate_file, "");
  EXPECT_EQ(c->bearer_token, "");
}

TEST_F(KubeconfigTest, BasicAuthAndImpersonation) {
  Write("home/.kube/config", FullKubeconfig());
  Result<RestConfig> c = LoadKubeconfig({.context = "basic"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->password, kPassword);
  EXPECT_EQ(c->impersonate_user, "bob");
}

TEST_F(KubeconfigTest, ExecStanza) {
  Write("home/.kube/config", FullKubeconfig());
  Result<RestConfig> c = LoadKubeconfig({.context = "exec"});
  ASSERT_TRUE(c) << c.error();
  ASSERT_TRUE(c->exec.has_value());
  const ExecConfig& e = *c->exec;
  EXPECT_EQ(e.command, "my-plugin");  // on PATH: not resolved against the file's folder
  EXPECT_THAT(e.args, ElementsAre("get-token", "--cluster", "dev"));
  ASSERT_EQ(e.env.size(), 1u);
  EXPECT_EQ(e.env[0].first, "FOO");
  EXPECT_EQ(e.env[0].second, "bar");
  EXPECT_EQ(e.api_version, "client.authentication.k8s.io/v1");
  EXPECT_EQ(e.install_hint, "install my-plugin from example.com");
  EXPECT_TRUE(e.provide_cluster_info);
  EXPECT_EQ(e.interactive_mode, "Never");
}

TEST_F(KubeconfigTest, ExecV1beta1DefaultsInteractiveModeToIfAvailable) {
  std::string path = Write("kc", R"(
clusters: [{name: c, cluster: {server: "https://c.example"}}]
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: plugin}
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
)");
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_TRUE(c) << c.error();
  ASSERT_TRUE(c->exec.has_value());
  EXPECT_EQ(c->exec->interactive_mode, "IfAvailable");
  EXPECT_FALSE(c->exec->provide_cluster_info);
}

TEST_F(KubeconfigTest, InsecureSkipTlsVerify) {
  Write("home/.kube/config", FullKubeconfig());
  Result<RestConfig> c = LoadKubeconfig({.context = "insecure"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->ca_data, "");
  EXPECT_EQ(c->server, "https://insecure.example");
}

TEST_F(KubeconfigTest, ContextWithoutUserIsAnonymous) {
  Write("home/.kube/config", FullKubeconfig());
  Result<RestConfig> c = LoadKubeconfig({.context = "anonymous"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->bearer_token, "");
  EXPECT_EQ(c->server, "https://dev.example:6443");
}

TEST_F(KubeconfigTest, JsonKubeconfigParses) {
  std::string path = Write("kc.json", std::string(R"({
  "apiVersion": "v1", "kind": "Config", "current-context": "j",
  "clusters": [{"name": "j", "cluster": {"server": "https://j.example",
                "insecure-skip-tls-verify": true}}],
  "users": [{"name": "j", "user": {"token": ")") +
                                          kToken + R"("}}],
  "contexts": [{"name": "j", "context": {"cluster": "j", "user": "j"}}]
})");
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://j.example");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->bearer_token, kToken);
}

TEST_F(KubeconfigTest, ParseKubeconfigGivesTheModelForTools) {
  Result<Kubeconfig> kc = ParseKubeconfig(FullKubeconfig(), "/x/config");
  ASSERT_TRUE(kc) << kc.error();
  EXPECT_EQ(kc->current_context, "dev");
  std::vector<std::string> names;
  for (const auto& [name, ctx] : kc->contexts) names.push_back(name);
  EXPECT_THAT(names, ElementsAre("anonymous", "basic", "cert", "dev", "exec", "insecure"));
  EXPECT_EQ(kc->contexts.at("dev").ns, "team-a");
  EXPECT_EQ(kc->contexts.at("dev").location_of_origin, "/x/config");
  EXPECT_GT(kc->contexts.at("dev").line, 0);
  EXPECT_TRUE(kc->clusters.at("dev-cluster").disable_compression);
  EXPECT_EQ(kc->clusters.at("dev-cluster").certificate_authority_data, kCaPem);
}

TEST_F(KubeconfigTest, EntriesWithoutBodyAreEmpty) {
  Result<Kubeconfig> kc = ParseKubeconfig(
      "clusters: [{name: c}]\nusers: [{name: u, user: null}]\ncontexts: [{name: x}]\n", "/k");
  ASSERT_TRUE(kc) << kc.error();
  EXPECT_EQ(kc->clusters.at("c").server, "");
  EXPECT_FALSE(kc->users.at("u").exec.has_value());
  EXPECT_EQ(kc->contexts.at("x").cluster, "");
  std::string path = Write("kc",
                           "current-context: x\nclusters: [{name: c}]\n"
                           "contexts: [{name: x, context: {cluster: c}}]\n");
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr("cluster \"c\": server: missing"));
}

TEST_F(KubeconfigTest, EmptyDocumentIsAnEmptyConfig) {
  for (const char* text : {"", "# only a comment\n", "---\n"}) {
    SCOPED_TRACE(text);
    Result<Kubeconfig> kc = ParseKubeconfig(text, "/x/empty");
    ASSERT_TRUE(kc) << kc.error();
    EXPECT_TRUE(kc->contexts.empty());
    EXPECT_EQ(kc->current_context, "");
  }
}

TEST_F(KubeconfigTest, ServerQueryAndFragmentAreDropped) {
  std::string path =
      Write("kc", SmallKubeconfig("a", "https://a.example/prefix?x=1#frag", "t", "a"));
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://a.example/prefix");
}

// --- Precedence and merging --------------------------------------------------------------------

TEST_F(KubeconfigTest, LoadingPrecedence) {
  EXPECT_THAT(KubeconfigLoadingPrecedence(), ElementsAre(home_ + "/.kube/config"));
  env_.Set("KUBECONFIG", "/a:/b::/a:/c:");
  EXPECT_THAT(KubeconfigLoadingPrecedence(), ElementsAre("/a", "/b", "/c"));
  EXPECT_THAT(KubeconfigLoadingPrecedence({.explicit_path = "/x"}), ElementsAre("/x"));
  env_.Set("KUBECONFIG", "");
  EXPECT_THAT(KubeconfigLoadingPrecedence(), ElementsAre(home_ + "/.kube/config"));
  env_.Unset("HOME");
  EXPECT_THAT(KubeconfigLoadingPrecedence(), ElementsAre());
}

TEST_F(KubeconfigTest, ExplicitPathWinsOverKubeconfigEnvAndHome) {
  Write("home/.kube/config", SmallKubeconfig("home", "https://home.example", "t", "home"));
  std::string env_file = Write("env", SmallKubeconfig("env", "https://env.example", "t", "env"));
  std::string flag = Write("flag", SmallKubeconfig("flag", "https://flag.example", "t", "flag"));
  env_.Set("KUBECONFIG", env_file);
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = flag});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://flag.example");
  // Only the explicit file is read: the others' contexts do not exist.
  Result<RestConfig> other = LoadKubeconfig({.explicit_path = flag, .context = "env"});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), StatusCode::kNotFound);
}

TEST_F(KubeconfigTest, MissingExplicitPathIsNotFoundAndNamesIt) {
  Write("home/.kube/config", SmallKubeconfig("home", "https://home.example", "t", "home"));
  std::string missing = dir_ + "/does-not-exist";
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = missing});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.error().message(), HasSubstr(missing));
}

TEST_F(KubeconfigTest, KubeconfigEnvReplacesHomeConfig) {
  Write("home/.kube/config", SmallKubeconfig("home", "https://home.example", "t", "home"));
  std::string env_file = Write("env", SmallKubeconfig("env", "https://env.example", "t", "env"));
  env_.Set("KUBECONFIG", env_file);
  Result<RestConfig> c = LoadKubeconfig();
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://env.example");
  Result<RestConfig> home = LoadKubeconfig({.context = "home"});
  ASSERT_FALSE(home);
  EXPECT_THAT(home.error().message(), HasSubstr("\"home\""));
}

TEST_F(KubeconfigTest, EmptyKubeconfigEnvFallsBackToHome) {
  Write("home/.kube/config", SmallKubeconfig("home", "https://home.example", "t", "home"));
  env_.Set("KUBECONFIG", "");
  Result<RestConfig> c = LoadKubeconfig();
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://home.example");
}

TEST_F(KubeconfigTest, KubeconfigEnvFirstFileWinsPerNameWholeEntry) {
  // Both files define cluster, user and context "shared"; the first file's entries win whole
  // (its user has a token only; the second's username is not merged in).
  std::string a = Write("a", std::string(R"(
current-context: shared
clusters: [{name: shared, cluster: {server: "https://a.example"}}]
users: [{name: shared, user: {token: )") +
                                 kToken + R"(}}]
contexts:
- {name: shared, context: {cluster: shared, user: shared, namespace: from-a}}
)");
  std::string b = Write("b", std::string(R"(
current-context: b-only
clusters:
- {name: shared, cluster: {server: "https://b.example", tls-server-name: b-name}}
- {name: b-cluster, cluster: {server: "https://b-cluster.example"}}
users:
- {name: shared, user: {username: bob}}
contexts:
- {name: shared, context: {cluster: b-cluster, user: shared}}
- {name: b-only, context: {cluster: b-cluster, user: shared}}
)"));
  env_.Set("KUBECONFIG", a + ":" + b);
  Result<Kubeconfig> kc = LoadKubeconfigFiles();
  ASSERT_TRUE(kc) << kc.error();
  EXPECT_THAT(kc->files, ElementsAre(a, b));
  EXPECT_EQ(kc->current_context, "shared");
  EXPECT_EQ(kc->clusters.at("shared").server, "https://a.example");
  EXPECT_EQ(kc->clusters.at("shared").tls_server_name, "");
  EXPECT_EQ(kc->clusters.at("shared").location_of_origin, a);
  EXPECT_EQ(kc->users.at("shared").username, "");
  EXPECT_EQ(kc->contexts.at("shared").ns, "from-a");
  EXPECT_EQ(kc->clusters.at("b-cluster").location_of_origin, b);

  Result<RestConfig> c = LoadKubeconfig();
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://a.example");
  EXPECT_EQ(c->bearer_token, kToken);
  EXPECT_EQ(c->username, "");
  // The second file's own entries are there.
  Result<RestConfig> b_only = LoadKubeconfig({.context = "b-only"});
  ASSERT_TRUE(b_only) << b_only.error();
  EXPECT_EQ(b_only->server, "https://b-cluster.example");
  EXPECT_THAT(b_only->source, HasSubstr(b));
}

TEST_F(KubeconfigTest, CurrentContextComesFromTheFirstFileThatSetsIt) {
  std::string a = Write("a", SmallKubeconfig("a", "https://a.example", "t"));  // no current
  std::string b = Write("b", SmallKubeconfig("b", "https://b.example", "t", "b"));
  std::string c_file = Write("c", SmallKubeconfig("c", "https://c.example", "t", "c"));
  env_.Set("KUBECONFIG", a + ":" + b + ":" + c_file);
  Result<RestConfig> c = LoadKubeconfig();
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://b.example");
}

TEST_F(KubeconfigTest, KubeconfigEnvSkipsMissingAndEmptyFiles) {
  std::string empty = Write("empty", "");
  std::string good = Write("good", SmallKubeconfig("g", "https://g.example", "t", "g"));
  std::string missing = dir_ + "/missing";
  env_.Set("KUBECONFIG", missing + "::" + empty + ":" + good + ":" + good);
  Result<Kubeconfig> kc = LoadKubeconfigFiles();
  ASSERT_TRUE(kc) << kc.error();
  EXPECT_THAT(kc->files, ElementsAre(empty, good));
  EXPECT_THAT(kc->missing_files, ElementsAre(missing));
  Result<RestConfig> c = LoadKubeconfig();
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://g.example");
}

TEST_F(KubeconfigTest, NoKubeconfigAnywhereIsNotFoundAndListsWhereItLooked) {
  Result<RestConfig> c = LoadKubeconfig();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.error().message(), HasSubstr(home_ + "/.kube/config"));
}

TEST_F(KubeconfigTest, NoCurrentContextIsNotFound) {
  std::string path = Write("kc", SmallKubeconfig("a", "https://a.example", "t"));
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.error().message(), HasSubstr("no context"));
  EXPECT_THAT(c.error().message(), HasSubstr(path));
}

// --- Context selection and overrides -----------------------------------------------------------

// Found by kubeconfig_fuzz: an unterminated quote makes a "name" of the rest of the file, tokens
// included; an error quotes at most 100 bytes of a name.
TEST_F(KubeconfigTest, ErrorsQuoteAtMostTheStartOfALongName) {
  Write("home/.kube/config", FullKubeconfig());
  std::string name = std::string(100, 'n') + " token: secret-after-the-cut";
  Result<RestConfig> c = LoadKubeconfig({.context = name});
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr(std::string(100, 'n') + "\"..."));
  EXPECT_THAT(c.error().message(), Not(HasSubstr("secret-after-the-cut")));
}

// An unterminated quote folds the next line into a name, within 100 bytes this time: the quote in
// an error stops at the swallowed `key: value`.
TEST_F(KubeconfigTest, ErrorsStopQuotingANameAtASwallowedLine) {
  std::string text = std::string("users:\n- name: \"alice\n    token: ") + kToken +
                     "\"\n  user:\n    as-groups: 5\n";
  Result<Kubeconfig> kc = ParseKubeconfig(text, "/x/config");
  ASSERT_FALSE(kc);
  EXPECT_THAT(kc.error().message(), HasSubstr("(user \"alice token\"...)")) << kc.error();
  EXPECT_THAT(kc.error().message(), HasSubstr("as-groups")) << kc.error();
  ExpectNoSecrets(kc.error().message());
}

// kubeconfig_fuzz's finding (fuzz/corpus/kubeconfig_fuzz/regression_sentinel_in_exec_api_version):
// the "credential" in the error was the fuzzer's copy of the target's own sentinel text, written
// into exec.apiVersion, which errors rightly quote. Credentials next to it stay out.
TEST_F(KubeconfigTest, ExecApiVersionErrorQuotesTheVersionButNoCredential) {
  std::string path =
      Write("kc", std::string("current-context: x\n"
                              "clusters: [{name: c, cluster: {server: \"https://c.example\"}}]\n"
                              "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                              "users:\n- name: u\n  user:\n    token: ") +
                      kToken + "\n    client-key-data: " + B64(kKeyPem) +
                      "\n    exec:\n      command: aws\n      apiVersion: client.example/v9\n");
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr("exec.apiVersion: unsupported \"client.example/v9\""))
      << c.error();
  ExpectNoSecrets(c.error().message());
}

// yaml-cpp 0.7's `LoadAll` loops forever on a top-level `,` (yaml/yaml_stream.h); `Load`, which
// the loader used alone, read the first document and dropped the rest. Both are now an error.
TEST_F(KubeconfigTest, StrayTopLevelCommaIsAnErrorNotIgnored) {
  for (const char* text :
       {",", ",\"kind\":\"Pod\",\"metadata\":{\"name\":",
        "{\"apiVersion\": \"v1\", \"kind\": \"Config\"},", "[a],", "clusters: []\n---\n,\n"}) {
    SCOPED_TRACE(text);
    Result<Kubeconfig> kc = ParseKubeconfig(text, "/x/config");
    ASSERT_FALSE(kc);
    EXPECT_EQ(kc.error().code(), StatusCode::kInvalidArgument) << kc.error();
    EXPECT_THAT(kc.error().message(), HasSubstr("not valid YAML")) << kc.error();
    EXPECT_THAT(kc.error().message(), HasSubstr("unexpected ','")) << kc.error();
  }
}

TEST_F(KubeconfigTest, MissingContextOptionIsNotFoundAndNamesIt) {
  std::string path = Write("home/.kube/config", FullKubeconfig());
  Result<RestConfig> c = LoadKubeconfig({.context = "staging"});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.error().message(), HasSubstr("context \"staging\" does not exist"));
  EXPECT_THAT(c.error().message(), HasSubstr(path));
}

TEST_F(KubeconfigTest, MissingCurrentContextIsNotFoundAndNamesIt) {
  std::string path = Write("kc", SmallKubeconfig("a", "https://a.example", "t", "gone"));
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.error().message(), HasSubstr("current-context \"gone\""));
  EXPECT_THAT(c.error().message(), HasSubstr(path));
}

TEST_F(KubeconfigTest, ClusterUserAndServerOverrides) {
  Write("home/.kube/config", FullKubeconfig());
  Result<RestConfig> c = LoadKubeconfig({.cluster = "insecure-cluster", .user = "basic-user"});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://insecure.example");
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->bearer_token, "");

  // --server keeps the cluster's CA but drops its tls-server-name, as kubectl does.
  Result<RestConfig> s = LoadKubeconfig({.server = "https://override.example:8443"});
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->server, "https://override.example:8443");
  EXPECT_EQ(s->ca_data, kCaPem);
  EXPECT_EQ(s->tls_server_name, "");
  EXPECT_EQ(s->bearer_token, kToken);

  Result<RestConfig> missing = LoadKubeconfig({.user = "nobody"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.error().message(), HasSubstr("user \"nobody\" does not exist"));
  Result<RestConfig> missing_cluster = LoadKubeconfig({.cluster = "nowhere"});
  ASSERT_FALSE(missing_cluster);
  EXPECT_THAT(missing_cluster.error().message(), HasSubstr("cluster \"nowhere\" does not exist"));
}

TEST_F(KubeconfigTest, HttpServerGetsNoUserCredentials) {
  // client-go applies user credentials only over TLS.
  std::string path = Write("kc", SmallKubeconfig("a", "http://127.0.0.1:8080", kToken, "a"));
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "http://127.0.0.1:8080");
  EXPECT_EQ(c->bearer_token, "");
}

// --- Files named by the kubeconfig ---------------------------------------------------------------

TEST_F(KubeconfigTest, RelativePathsResolveAgainstTheirFilesFolder) {
  Write("conf/certs/ca.crt", kCaPem);
  Write("conf/certs/client.crt", kCertPem);
  Write("conf/keys/client.key", kKeyPem);
  Write("conf/sub/token", std::string(kToken) + "\n");
  std::string path = Write("conf/sub/kubeconfig", R"(
current-context: c
clusters: [{name: c, cluster: {server: "https://c.example", certificate-authority: ../certs/ca.crt}}]
users:
- name: u
  user:
    client-certificate: ../certs/client.crt
    client-key: ./../keys/client.key
    tokenFile: token
- name: e
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/plugin, interactiveMode: Never}
contexts:
- {name: c, context: {cluster: c, user: u}}
- {name: e, context: {cluster: c, user: e}}
)");
  // Through a relative $KUBECONFIG entry too: the folder is made absolute first.
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  env_.Set("KUBECONFIG", "conf/sub/kubeconfig");
  Result<RestConfig> c = LoadKubeconfig();
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->ca_file, dir_ + "/conf/certs/ca.crt");
  EXPECT_EQ(c->ca_data, kCaPem);
  EXPECT_EQ(c->client_certificate_file, dir_ + "/conf/certs/client.crt");
  EXPECT_EQ(c->client_certificate_data, kCertPem);
  EXPECT_EQ(c->client_key_file, dir_ + "/conf/keys/client.key");
  EXPECT_EQ(c->client_key_data, kKeyPem);
  EXPECT_EQ(c->bearer_token_file, dir_ + "/conf/sub/token");
  EXPECT_EQ(c->bearer_token, kToken);  // trailing newline trimmed
  Result<RestConfig> e = LoadKubeconfig({.explicit_path = path, .context = "e"});
  ASSERT_TRUE(e) << e.error();
  EXPECT_EQ(e->exec->command, dir_ + "/conf/sub/bin/plugin");
}

TEST_F(KubeconfigTest, TokenFileIsReadNowAndKeptForRotation) {
  std::string token_file = Write("token", std::string(kToken) + "\n");
  std::string path = Write("kc", R"(
current-context: c
clusters: [{name: c, cluster: {server: "https://c.example"}}]
users: [{name: u, user: {tokenFile: )" +
                                     token_file + R"(}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
)");
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->bearer_token, kToken);
  EXPECT_EQ(c->bearer_token_file, token_file);
}

TEST_F(KubeconfigTest, TokenWinsOverTokenFileAndBothAreKept) {
  std::string path = Write("kc", std::string(R"(
current-context: c
clusters: [{name: c, cluster: {server: "https://c.example"}}]
users: [{name: u, user: {token: )") + kToken +
                                     R"(, tokenFile: /does/not/exist}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
)");
  Result<RestConfig> c = LoadKubeconfig({.explicit_path = path});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->bearer_token, kToken);
  EXPECT_EQ(c->bearer_token_file, "/does/not/exist");
}

// --- Broken files ------------------------------------------------------------------------------

struct BrokenCase {
  const char* name;
  std::string yaml;
  StatusCode code;
  std::vector<std::string> want;  // substrings of the message besides the file's path
};

std::string WithContext(const std::string& clusters, const std::string& users) {
  return "current-context: c\nclusters:\n" + clusters + "users:\n" + users +
         "contexts:\n- {name: c, context: {cluster: c, user: u}}\n";
}

const std::string kGoodCluster = "- {name: c, cluster: {server: \"https://c.example\"}}\n";
const std::string kGoodUser = std::string("- {name: u, user: {token: ") + kToken + "}}\n";

std::vector<BrokenCase> BrokenCases() {
  return {
      {"bad yaml", "clusters: [\n  {name: c,\n", StatusCode::kInvalidArgument, {"not valid YAML"}},
      {"tab indentation",
       "clusters:\n\t- name: c\n",
       StatusCode::kInvalidArgument,
       {"not valid YAML", ":2"}},
      {"top level list",
       "- a\n- b\n",
       StatusCode::kInvalidArgument,
       {"(top level)", "expected a map"}},
      {"clusters is a map",
       "clusters: {c: {server: x}}\n",
       StatusCode::kInvalidArgument,
       {":1", "clusters: expected a list, found a map"}},
      {"cluster is a string",
       "clusters:\n- name: c\n  cluster: https://x\n",
       StatusCode::kInvalidArgument,
       {":3", "clusters[0].cluster", "(cluster \"c\")"}},
      {"server is a list",
       "clusters:\n- name: c\n  cluster:\n    server: [a, b]\n",
       StatusCode::kInvalidArgument,
       {":4", "clusters[0].cluster.server", "expected a string"}},
      {"insecure quoted",
       "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: \"yes\"\n",
       StatusCode::kInvalidArgument,
       {"clusters[0].cluster.insecure-skip-tls-verify", "true or false"}},
      {"insecure not a bool",
       "clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n",
       StatusCode::kInvalidArgument,
       {"insecure-skip-tls-verify", "\"maybe\""}},
      {"bad base64 ca",
       "clusters:\n- name: c\n  cluster:\n    certificate-authority-data: \"not*base64\"\n",
       StatusCode::kInvalidArgument,
       {":4", "clusters[0].cluster.certificate-authority-data", "not valid base64", "byte 3"}},
      {"bad base64 key",
       "users:\n- name: u\n  user:\n    client-key-data: " + B64(kKeyPem).substr(1) + "\n",
       StatusCode::kInvalidArgument,
       {"users[0].user.client-key-data (user \"u\")", "not valid base64"}},
      {"args a string",
       "users:\n- name: u\n  user:\n    exec:\n      command: p\n      args: get-token\n",
       StatusCode::kInvalidArgument,
       {":6", "users[0].user.exec.args", "list of strings"}},
      {"env not a list",
       "users:\n- name: u\n  user:\n    exec: {command: p, env: {A: b}}\n",
       StatusCode::kInvalidArgument,
       {"users[0].user.exec.env"}},
      {"missing name",
       "contexts:\n- context: {cluster: c}\n",
       StatusCode::kInvalidArgument,
       {"contexts[0].name: missing"}},
      {"duplicate name",
       "clusters:\n" + kGoodCluster + kGoodCluster,
       StatusCode::kInvalidArgument,
       {"clusters[1].name", "duplicate", "\"c\""}},
      {"api version",
       "apiVersion: v2\nkind: Config\n",
       StatusCode::kInvalidArgument,
       {"apiVersion", "\"v2\""}},
      {"kind", "apiVersion: v1\nkind: Pod\n", StatusCode::kInvalidArgument, {"kind", "\"Pod\""}},
      {"context names missing cluster",
       "current-context: c\nclusters: []\nusers:\n" + kGoodUser +
           "contexts:\n- {name: c, context: {cluster: nope, user: u}}\n",
       StatusCode::kNotFound,
       {":6", "context \"c\"", "cluster \"nope\" was not found"}},
      {"context names missing user",
       "current-context: c\nclusters:\n" + kGoodCluster +
           "contexts:\n- {name: c, context: {cluster: c, user: ghost}}\n",
       StatusCode::kNotFound,
       {"context \"c\"", "user \"ghost\" was not found"}},
      {"context without cluster",
       "current-context: c\ncontexts:\n- {name: c, context: {user: u}}\n",
       StatusCode::kInvalidArgument,
       {"context \"c\"", "cluster: missing"}},
      {"cluster without server",
       WithContext("- {name: c, cluster: {tls-server-name: x}}\n", kGoodUser),
       StatusCode::kInvalidArgument,
       {"cluster \"c\"", "server: missing"}},
      {"server without scheme",
       WithContext("- {name: c, cluster: {server: c.example:6443}}\n", kGoodUser),
       StatusCode::kInvalidArgument,
       {"cluster \"c\"", "server: must start with https://"}},
      {"ca file and data",
       WithContext("- {name: c, cluster: {server: \"https://c\", certificate-authority: /ca, "
                   "certificate-authority-data: " +
                       B64(kCaPem) + "}}\n",
                   kGoodUser),
       StatusCode::kInvalidArgument,
       {"cluster \"c\"", "certificate-authority", "only one"}},
      {"insecure with ca",
       WithContext("- {name: c, cluster: {server: \"https://c\", insecure-skip-tls-verify: true, "
                   "certificate-authority-data: " +
                       B64(kCaPem) + "}}\n",
                   kGoodUser),
       StatusCode::kInvalidArgument,
       {"insecure-skip-tls-verify", "certificate authority"}},
      {"missing ca file",
       WithContext("- {name: c, cluster: {server: \"https://c\", certificate-authority: "
                   "/nonexistent/ca.crt}}\n",
                   kGoodUser),
       StatusCode::kInvalidArgument,
       {"cluster \"c\"", "certificate-authority: cannot read /nonexistent/ca.crt", "No such file"}},
      {"bad proxy scheme",
       WithContext("- {name: c, cluster: {server: \"https://c\", proxy-url: \"ftp://p:21\"}}\n",
                   kGoodUser),
       StatusCode::kInvalidArgument,
       {"proxy-url", "\"ftp\""}},
      {"cert without key",
       WithContext(kGoodCluster,
                   "- {name: u, user: {client-certificate-data: " + B64(kCertPem) + "}}\n"),
       StatusCode::kInvalidArgument,
       {"user \"u\"", "client-key: missing"}},
      {"cert file and data",
       WithContext(kGoodCluster,
                   "- {name: u, user: {client-certificate: /c.crt, "
                   "client-certificate-data: " +
                       B64(kCertPem) + ", client-key-data: " + B64(kKeyPem) + "}}\n"),
       StatusCode::kInvalidArgument,
       {"user \"u\"", "client-certificate", "only one"}},
      {"missing key file",
       WithContext(kGoodCluster, "- {name: u, user: {client-certificate-data: " + B64(kCertPem) +
                                     ", client-key: /nonexistent/k.key}}\n"),
       StatusCode::kInvalidArgument,
       {"client-key: cannot read /nonexistent/k.key"}},
      {"token and basic auth",
       WithContext(kGoodCluster, std::string("- {name: u, user: {token: ") + kToken +
                                     ", username: a, password: " + kPassword + "}}\n"),
       StatusCode::kInvalidArgument,
       {"user \"u\"", "only one authentication method"}},
      {"missing token file",
       WithContext(kGoodCluster, "- {name: u, user: {tokenFile: /nonexistent/token}}\n"),
       StatusCode::kInvalidArgument,
       {"tokenFile: cannot read /nonexistent/token"}},
      {"auth provider",
       WithContext(kGoodCluster, "- {name: u, user: {auth-provider: {name: oidc}}}\n"),
       StatusCode::kInvalidArgument,
       {"auth-provider", "not supported"}},
      {"exec without command",
       WithContext(kGoodCluster,
                   "- {name: u, user: {exec: {apiVersion: "
                   "client.authentication.k8s.io/v1, interactiveMode: Never}}}\n"),
       StatusCode::kInvalidArgument,
       {"user \"u\"", "exec.command: missing"}},
      {"exec old api version",
       WithContext(kGoodCluster,
                   "- {name: u, user: {exec: {command: p, apiVersion: "
                   "client.authentication.k8s.io/v1alpha1}}}\n"),
       StatusCode::kInvalidArgument,
       {"exec.apiVersion", "v1alpha1"}},
      {"exec v1 without interactive mode",
       WithContext(kGoodCluster,
                   "- {name: u, user: {exec: {command: p, apiVersion: "
                   "client.authentication.k8s.io/v1}}}\n"),
       StatusCode::kInvalidArgument,
       {"exec.interactiveMode: missing"}},
      {"exec bad interactive mode",
       WithContext(kGoodCluster,
                   "- {name: u, user: {exec: {command: p, apiVersion: "
                   "client.authentication.k8s.io/v1, interactiveMode: Sometimes}}}\n"),
       StatusCode::kInvalidArgument,
       {"exec.interactiveMode", "\"Sometimes\""}},
      {"exec env without name",
       WithContext(kGoodCluster, std::string("- {name: u, user: {exec: {command: p, apiVersion: "
                                             "client.authentication.k8s.io/v1beta1, env: "
                                             "[{value: ") +
                                     kPassword + "}]}}}\n"),
       StatusCode::kInvalidArgument,
       {"exec.env[0].name: missing"}},
  };
}

TEST_F(KubeconfigTest, BrokenFilesGiveClearErrorsNamingFileAndField) {
  for (const BrokenCase& c : BrokenCases()) {
    SCOPED_TRACE(c.name);
    std::string path = Write("broken", c.yaml);
    Result<RestConfig> r = LoadKubeconfig({.explicit_path = path});
    ASSERT_FALSE(r) << c.yaml;
    EXPECT_EQ(r.error().code(), c.code) << r.error();
    EXPECT_THAT(r.error().message(), HasSubstr("kubeconfig " + path)) << r.error();
    for (const std::string& want : c.want) {
      EXPECT_THAT(r.error().message(), HasSubstr(want)) << r.error();
    }
    ExpectNoSecrets(r.error().message());
  }
}

// --- In-cluster --------------------------------------------------------------------------------

TEST_F(KubeconfigTest, InClusterOutsideAPodIsUnavailableWithClientGosMessage) {
  Result<RestConfig> c = InClusterConfig();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.error().message(),
            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
            "KUBERNETES_SERVICE_PORT must be defined");
  env_.Set("KUBERNETES_SERVICE_HOST", "10.0.0.1");  // port still missing
  EXPECT_FALSE(InClusterConfig());
}

TEST_F(KubeconfigTest, InClusterReadsTokenAndCaFromTheServiceAccountFolder) {
  EnterCluster();
  std::string sa = WriteServiceAccount(std::string(kToken) + "\n");
  Result<RestConfig> c = InClusterConfig({.service_account_dir = sa});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->bearer_token, kToken);
  EXPECT_EQ(c->bearer_token_file, sa + "/token");
  EXPECT_EQ(c->ca_data, kCaPem);
  EXPECT_EQ(c->ca_file, sa + "/ca.crt");
  EXPECT_EQ(c->source, "in-cluster");
}

TEST_F(KubeconfigTest, InClusterServiceAccountFolderFromEnvironment) {
  EnterCluster();
  env_.Set("KUBE_INFORMER_SERVICEACCOUNT_DIR", WriteServiceAccount(kToken));
  Result<RestConfig> c = InClusterConfig();
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->bearer_token, kToken);
}

TEST_F(KubeconfigTest, InClusterIpv6HostIsBracketed) {
  EnterCluster("fd00:10:96::1", "6443");
  Result<RestConfig> c = InClusterConfig({.service_account_dir = WriteServiceAccount(kToken)});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://[fd00:10:96::1]:6443");
}

TEST_F(KubeconfigTest, InClusterMissingTokenIsAnErrorNamingTheFile) {
  EnterCluster();
  Result<RestConfig> c = InClusterConfig({.service_account_dir = dir_ + "/nowhere"});
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr(dir_ + "/nowhere/token"));
}

TEST_F(KubeconfigTest, InClusterMissingCaFallsBackToTheSystemTrustStore) {
  EnterCluster();
  Result<RestConfig> c =
      InClusterConfig({.service_account_dir = WriteServiceAccount(kToken, /*with_ca=*/false)});
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->ca_data, "");
  EXPECT_EQ(c->ca_file, "");
  EXPECT_THAT(c->source, HasSubstr("no CA"));
}

TEST_F(KubeconfigTest, InClusterTokenRotationIsSeenThroughTheTokenFile) {
  // The config holds the token read at load time and the file to re-read: after the kubelet
  // rotates the token, the file has the new one and the transport picks it up from there.
  EnterCluster();
  std::string sa = WriteServiceAccount(kToken);
  Result<RestConfig> c = InClusterConfig({.service_account_dir = sa});
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->bearer_token, kToken);
  Write("sa/token", kOtherToken);
  std::ifstream in(c->bearer_token_file);
  std::string rotated((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rotated, kOtherToken);
  Result<RestConfig> again = InClusterConfig({.service_account_dir = sa});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->bearer_token, kOtherToken);
}

// --- Fallback orders ---------------------------------------------------------------------------

TEST_F(KubeconfigTest, BuildConfigFromFlagsWithoutFlagsUsesInCluster) {
  Write("home/.kube/config", SmallKubeconfig("home", "https://home.example", "t", "home"));
  EnterCluster();
  env_.Set("KUBE_INFORMER_SERVICEACCOUNT_DIR", WriteServiceAccount(kToken));
  Result<RestConfig> c = BuildConfigFromFlags("", "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->source, "in-cluster");
}

TEST_F(KubeconfigTest, BuildConfigFromFlagsFallsBackToDefaultRulesOutsideACluster) {
  Write("home/.kube/config", SmallKubeconfig("home", "https://home.example", "t", "home"));
  Result<RestConfig> c = BuildConfigFromFlags("", "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://home.example");
}

TEST_F(KubeconfigTest, BuildConfigFromFlagsWithAKubeconfigSkipsInCluster) {
  EnterCluster();
  env_.Set("KUBE_INFORMER_SERVICEACCOUNT_DIR", WriteServiceAccount(kToken));
  std::string flag = Write("flag", SmallKubeconfig("f", "https://flag.example", "t", "f"));
  Result<RestConfig> c = BuildConfigFromFlags("", flag);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://flag.example");
}

TEST_F(KubeconfigTest, BuildConfigFromFlagsMasterUrlAlone) {
  Result<RestConfig> c = BuildConfigFromFlags("https://master.example:6443", "");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://master.example:6443");
  EXPECT_EQ(c->bearer_token, "");
  std::string flag = Write("flag", SmallKubeconfig("f", "https://flag.example", kToken, "f"));
  Result<RestConfig> both = BuildConfigFromFlags("https://master.example:6443", flag);
  ASSERT_TRUE(both) << both.error();
  EXPECT_EQ(both->server, "https://master.example:6443");
  EXPECT_EQ(both->bearer_token, kToken);
}

TEST_F(KubeconfigTest, InClusterOrKubeconfigPrefersInCluster) {
  EnterCluster();
  env_.Set("KUBE_INFORMER_SERVICEACCOUNT_DIR", WriteServiceAccount(kToken));
  std::string flag = Write("flag", SmallKubeconfig("f", "https://flag.example", "t", "f"));
  Result<RestConfig> c = InClusterOrKubeconfig(flag);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->source, "in-cluster");
}

TEST_F(KubeconfigTest, InClusterOrKubeconfigFallsBackToTheFlagThenHome) {
  std::string flag = Write("flag", SmallKubeconfig("f", "https://flag.example", "t", "f"));
  Write("home/.kube/config", SmallKubeconfig("home", "https://home.example", "t", "home"));
  Result<RestConfig> c = InClusterOrKubeconfig(flag);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://flag.example");
  Result<RestConfig> home = InClusterOrKubeconfig("");
  ASSERT_TRUE(home) << home.error();
  EXPECT_EQ(home->server, "https://home.example");
}

TEST_F(KubeconfigTest, InClusterOrKubeconfigErrorMentionsBoth) {
  // KUBECONFIG is not consulted: the default is the home file, which must exist.
  env_.Set("KUBECONFIG", Write("env", SmallKubeconfig("e", "https://env.example", "t", "e")));
  Result<RestConfig> c = InClusterOrKubeconfig("");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kNotFound);
  EXPECT_THAT(c.error().message(), HasSubstr(home_ + "/.kube/config"));
  EXPECT_THAT(c.error().message(), HasSubstr("KUBERNETES_SERVICE_HOST"));
}

// --- Redaction ---------------------------------------------------------------------------------

TEST_F(KubeconfigTest, RedactedStringHidesEveryCredential) {
  RestConfig c;
  c.server = "https://c.example";
  c.ca_data = kCaPem;
  c.proxy_url = std::string("http://user:") + kPassword + "@proxy:3128";
  c.bearer_token = kToken;
  c.bearer_token_file = "/var/run/token";
  c.client_certificate_data = kCertPem;
  c.client_key_data = kKeyPem;
  c.client_key_file = "/k.key";
  c.username = "alice";
  c.password = kPassword;
  c.exec.emplace();
  c.exec->command = "plugin";
  c.exec->args = {"get-token"};
  c.exec->env = {{"SECRET_ENV", kOtherToken}};
  c.exec->api_version = "client.authentication.k8s.io/v1";
  std::string s = RedactedString(c);
  ExpectNoSecrets(s);
  EXPECT_THAT(s, HasSubstr("server: https://c.example"));
  EXPECT_THAT(s,
              HasSubstr("bearer_token: <redacted, " + std::to_string(strlen(kToken)) + " bytes>"));
  EXPECT_THAT(s, HasSubstr("bearer_token_file: /var/run/token"));
  EXPECT_THAT(s, HasSubstr("password: <redacted"));
  EXPECT_THAT(s, HasSubstr("client_key: <redacted"));
  EXPECT_THAT(s, HasSubstr("proxy_url: http://user:<redacted>@proxy:3128"));
  EXPECT_THAT(s, HasSubstr("SECRET_ENV=<redacted"));
  EXPECT_THAT(s, HasSubstr("username: alice"));

  RestConfig empty;
  EXPECT_THAT(RedactedString(empty), HasSubstr("bearer_token: <none>"));
}

TEST_F(KubeconfigTest, LoadedConfigsPrintWithoutSecrets) {
  Write("home/.kube/config", FullKubeconfig());
  for (const char* context : {"dev", "cert", "basic", "exec"}) {
    SCOPED_TRACE(context);
    Result<RestConfig> c = LoadKubeconfig({.context = context});
    ASSERT_TRUE(c) << c.error();
    ExpectNoSecrets(RedactedString(*c));
  }
}

}  // namespace
}  // namespace kube
