// Tests of exec credential plugins and the caching provider. Each test writes small bash plugins
// into a temporary folder.
#include "kube/config/exec_credential.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "kube/config/rest_config.h"

namespace kube {
namespace {

using std::chrono::system_clock;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kV1[] = "client.authentication.k8s.io/v1";
constexpr char kV1Beta1[] = "client.authentication.k8s.io/v1beta1";
constexpr char kToken[] = "tok-SECRET-9d8c7b";
constexpr char kEnvSecret[] = "env-SECRET-aws-key";
constexpr char kArgSecret[] = "arg-SECRET-42";

void ExpectNoSecrets(const std::string& text) {
  for (const char* secret : {kToken, kEnvSecret, kArgSecret, "KEY-SECRET"}) {
    EXPECT_THAT(text, Not(HasSubstr(secret)));
  }
}

// An ExecCredential printed by a plugin, with `status` as given (JSON).
std::string Credential(const std::string& status, const std::string& api_version = kV1) {
  return "{\"apiVersion\":\"" + api_version +
         "\",\"kind\":\"ExecCredential\",\"status\":" + status + "}";
}

class ExecCredentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kinf-exec-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes an executable bash script and returns its path.
  std::string Script(const std::string& name, const std::string& body, bool executable = true) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::trunc) << "#!/bin/bash\n" << body << "\n";
    chmod(path.c_str(), executable ? 0755 : 0644);
    return path;
  }

  // A plugin printing `output` verbatim (through a file, so no quoting trouble).
  std::string PrintingPlugin(const std::string& name, const std::string& output) {
    std::string data = dir_ + "/" + name + ".out";
    std::ofstream(data, std::ios::trunc) << output;
    return Script(name, "cat '" + data + "'");
  }

  std::string ReadFile(const std::string& rel) {
    std::ifstream in(dir_ + "/" + rel);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  static ExecConfig Exec(const std::string& command, const std::string& api_version = kV1) {
    ExecConfig e;
    e.command = command;
    e.api_version = api_version;
    e.interactive_mode = "Never";
    return e;
  }

  std::string dir_;
  RestConfig cluster_;
};

// --- Running a plugin --------------------------------------------------------------------------

TEST_F(ExecCredentialTest, ReturnsTheTokenAndPassesArgsAndEnv) {
  ExecConfig e = Exec(Script("plugin", R"(
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
printf '"status":{"token":"tok-%s-%s-%s"}}' "$1" "$2" "$FOO")"));
  e.args = {"first arg", "second"};
  e.env = {{"FOO", "bar"}};
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->token, "tok-first arg-second-bar");
  EXPECT_EQ(c->client_certificate_data, "");
  EXPECT_FALSE(c->expiration.has_value());
}

TEST_F(ExecCredentialTest, V1beta1Plugin) {
  ExecConfig e = Exec(PrintingPlugin("p", Credential("{\"token\":\"t\"}", kV1Beta1)), kV1Beta1);
  e.interactive_mode = "IfAvailable";
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->token, "t");
}

TEST_F(ExecCredentialTest, PrettyPrintedJsonAndUnknownFieldsAreAccepted) {
  ExecConfig e = Exec(PrintingPlugin("p", R"({
  "apiVersion": "client.authentication.k8s.io/v1",
  "kind": "ExecCredential",
  "spec": {"interactive": false},
  "status": {
    "token": "t\u00e9\"x",
    "somethingNew": [1, 2]
  }
}
)"));
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->token, "t\xc3\xa9\"x");
}

TEST_F(ExecCredentialTest, ExecInfoWithoutClusterInfo) {
  ExecConfig e = Exec(Script("plugin", "printf '%s' \"$KUBERNETES_EXEC_INFO\" > '" + dir_ +
                                           "/info'\n"
                                           "printf '" +
                                           Credential("{\"token\":\"t\"}") + "'"));
  cluster_.server = "https://c.example";
  ASSERT_TRUE(RunExecCredentialPlugin(e, cluster_));
  EXPECT_EQ(ReadFile("info"),
            "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
            "\"spec\":{\"interactive\":false}}");
}

TEST_F(ExecCredentialTest, ExecInfoWithClusterInfo) {
  ExecConfig e = Exec(Script("plugin", "printf '%s' \"$KUBERNETES_EXEC_INFO\" > '" + dir_ +
                                           "/info'\n"
                                           "printf '" +
                                           Credential("{\"token\":\"t\"}") + "'"));
  e.provide_cluster_info = true;
  cluster_.server = "https://c.example:6443";
  cluster_.ca_data = "CA\n";
  cluster_.insecure_skip_tls_verify = true;
  cluster_.tls_server_name = "api.\"c\"";
  cluster_.proxy_url = "socks5://proxy:1080";
  cluster_.bearer_token = kToken;  // user fields never reach the plugin
  ASSERT_TRUE(RunExecCredentialPlugin(e, cluster_));
  std::string info = ReadFile("info");
  EXPECT_EQ(info,
            "{\"kind\":\"ExecCredential\",\"apiVersion\":\"client.authentication.k8s.io/v1\","
            "\"spec\":{\"cluster\":{\"server\":\"https://c.example:6443\","
            "\"tls-server-name\":\"api.\\\"c\\\"\",\"insecure-skip-tls-verify\":true,"
            "\"certificate-authority-data\":\"Q0EK\",\"proxy-url\":\"socks5://proxy:1080\"},"
            "\"interactive\":false}}");
  ExpectNoSecrets(info);
}

TEST_F(ExecCredentialTest, KubeconfigEnvOverridesOursAndTheLastEntryWins) {
  setenv("KINF_TEST_PASSED_THROUGH", "through", 1);
  setenv("KINF_TEST_OVERRIDDEN", "outer", 1);
  ExecConfig e = Exec(Script("plugin", R"(
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
printf '"status":{"token":"%s/%s/%s"}}' "$KINF_TEST_PASSED_THROUGH" "$KINF_TEST_OVERRIDDEN" "$X")"));
  e.env = {{"KINF_TEST_OVERRIDDEN", "inner"}, {"X", "1"}, {"X", "2"}};
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  unsetenv("KINF_TEST_PASSED_THROUGH");
  unsetenv("KINF_TEST_OVERRIDDEN");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->token, "through/inner/2");
}

TEST_F(ExecCredentialTest, StdinIsEmpty) {
  ExecConfig e = Exec(Script("plugin", R"(
input=$(cat)
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
printf '"status":{"token":"[%s]"}}' "$input")"));
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->token, "[]");
}

TEST_F(ExecCredentialTest, ClientCertificateAndKey) {
  ExecConfig e = Exec(PrintingPlugin(
      "p", Credential("{\"clientCertificateData\":\"-----BEGIN CERTIFICATE-----\\nC\\n-----END "
                      "CERTIFICATE-----\\n\",\"clientKeyData\":\"-----BEGIN PRIVATE "
                      "KEY-----\\nKEY-SECRET\\n-----END PRIVATE KEY-----\\n\"}")));
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->token, "");
  EXPECT_EQ(c->client_certificate_data,
            "-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n");
  EXPECT_EQ(c->client_key_data,
            "-----BEGIN PRIVATE KEY-----\nKEY-SECRET\n-----END PRIVATE KEY-----\n");
}

TEST_F(ExecCredentialTest, ExpirationTimestamps) {
  using std::chrono::hours;
  using std::chrono::minutes;
  using std::chrono::nanoseconds;
  using std::chrono::seconds;
  const system_clock::time_point base =
      std::chrono::sys_days(std::chrono::year(2030) / 1 / 2) + hours(3) + minutes(4) + seconds(5);
  struct Case {
    std::string input;
    system_clock::time_point want;
  };
  const Case cases[] = {
      {"2030-01-02T03:04:05Z", base},
      {"2030-01-02t03:04:05z", base},
      {"2030-01-02T03:04:05.5Z", base + std::chrono::milliseconds(500)},
      {"2030-01-02T03:04:05.123456789Z", base + nanoseconds(123456789)},
      {"2030-01-02T05:04:05+02:00", base},
      {"2030-01-01T22:34:05-04:30", base},
      // Past what system_clock's nanoseconds can count (exec_credential_fuzz found the overflow):
      // saturates to "never expires".
      {"3555-01-01T00:00:00Z", system_clock::time_point::max()},
  };
  std::string plugin = Script("plugin", R"(
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
printf '"status":{"token":"t","expirationTimestamp":"%s"}}' "$1")");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    ExecConfig e = Exec(plugin);
    e.args = {c.input};
    Result<ExecCredential> cred = RunExecCredentialPlugin(e, cluster_);
    ASSERT_TRUE(cred) << cred.error();
    ASSERT_TRUE(cred->expiration.has_value());
    EXPECT_EQ(*cred->expiration, c.want);
  }
  for (const char* bad :
       {"2030-01-02", "2030-01-02T03:04:05", "2030-13-02T03:04:05Z", "2030-02-30T03:04:05Z",
        "2030-01-02T24:00:00Z", "2030-01-02T03:04:05.Z", "2030-01-02T03:04:05+0200", "tomorrow"}) {
    SCOPED_TRACE(bad);
    ExecConfig e = Exec(plugin);
    e.args = {bad};
    Result<ExecCredential> cred = RunExecCredentialPlugin(e, cluster_);
    ASSERT_FALSE(cred);
    EXPECT_EQ(cred.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(cred.error().message(), HasSubstr("expirationTimestamp"));
  }
}

// --- Failures ----------------------------------------------------------------------------------

TEST_F(ExecCredentialTest, NonZeroExitGivesTheCodeAndTheStderrTail) {
  std::string plugin = Script("failing",
                              "echo 'error: login required' >&2\n"
                              "echo 'run: my-cli login' >&2\nexit 3");
  ExecConfig e = Exec(plugin);
  e.args = {kArgSecret};
  e.env = {{"AWS_SECRET", kEnvSecret}};
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(c.error().message(), HasSubstr("exec plugin \"" + plugin + "\""));
  EXPECT_THAT(c.error().message(), HasSubstr("exit code 3"));
  EXPECT_THAT(c.error().message(), HasSubstr("error: login required | run: my-cli login"));
  ExpectNoSecrets(c.error().message());
}

TEST_F(ExecCredentialTest, FailedPluginsStdoutIsNeverQuoted) {
  ExecConfig e =
      Exec(Script("plugin", "printf '" + Credential(std::string("{\"token\":\"") + kToken + "\"}") +
                                "'\nexit 1"));
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr("exit code 1"));
  ExpectNoSecrets(c.error().message());
}

TEST_F(ExecCredentialTest, LongStderrIsTrimmedToItsTail) {
  ExecConfig e = Exec(Script("plugin",
                             "head -c 20000 /dev/zero | tr '\\0' x >&2\n"
                             "printf '\\033[31mTHE-END\\n\\n' >&2\nexit 1"));
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr("xx [31mTHE-END"));  // ESC replaced, tail trimmed
  EXPECT_LT(c.error().message().size(), 1000u);
}

TEST_F(ExecCredentialTest, KilledBySignal) {
  ExecConfig e = Exec(Script("plugin", "kill -9 $$"));
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(c.error().message(), HasSubstr("killed by signal 9"));
}

TEST_F(ExecCredentialTest, BadOutputIsInvalidArgumentWithoutQuotingIt) {
  struct Case {
    const char* name;
    std::string output;
    std::string want;
  };
  const std::string secret(kToken);
  const Case cases[] = {
      {"garbage", "this is not json " + secret + " {", "not a JSON ExecCredential"},
      {"unclosed", "{\"status\": {\"token\": \"" + secret + "\"", "not valid JSON"},
      {"empty", "", "not a JSON ExecCredential"},
      {"array", "[\"" + secret + "\"]", "not a JSON ExecCredential"},
      {"wrong api version", Credential("{\"token\":\"" + secret + "\"}", kV1Beta1),
       "configured for apiVersion client.authentication.k8s.io/v1, but the plugin returned "
       "\"client.authentication.k8s.io/v1beta1\""},
      {"wrong kind",
       "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"Token\",\"status\":{}}",
       "kind \"Token\""},
      {"no status",
       "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\"}",
       "no status"},
      {"empty status", Credential("{}"), "neither a token nor a certificate and key"},
      {"status not an object", Credential("\"" + secret + "\""), "status is not an object"},
      {"token not a string", Credential("{\"token\":{\"v\":\"" + secret + "\"}}"), "not a string"},
      {"cert without key", Credential("{\"clientCertificateData\":\"C\"}"), "only one of"},
      {"key without cert", Credential("{\"token\":\"t\",\"clientKeyData\":\"KEY-SECRET\"}"),
       "only one of"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Result<ExecCredential> r =
        RunExecCredentialPlugin(Exec(PrintingPlugin("p", c.output)), cluster_);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument) << r.error();
    EXPECT_THAT(r.error().message(), HasSubstr(c.want));
    EXPECT_THAT(r.error().message(), HasSubstr("exec plugin \"" + dir_ + "/p\""));
    ExpectNoSecrets(r.error().message());
  }
}

TEST_F(ExecCredentialTest, TimeoutKillsThePluginAndItsChildren) {
  // `sleep` inherits stdout: unless the whole process group dies, the pipe stays open.
  ExecConfig e = Exec(Script("slow",
                             "echo 'waiting for browser login' >&2\nsleep 30\n"
                             "printf '" +
                                 Credential("{\"token\":\"late\"}") + "'"));
  const auto start = std::chrono::steady_clock::now();
  Result<ExecCredential> c =
      RunExecCredentialPlugin(e, cluster_, {.timeout = std::chrono::milliseconds(300)});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(c.error().message(), HasSubstr("300ms"));
  EXPECT_THAT(c.error().message(), HasSubstr("waiting for browser login"));
  EXPECT_LT(elapsed, std::chrono::seconds(20));
}

TEST_F(ExecCredentialTest, OversizedOutputIsRefused) {
  ExecConfig e = Exec(Script("chatty", "head -c 100000 /dev/zero | tr '\\0' a"));
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_, {.max_output_bytes = 1024});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kDataLoss);
  EXPECT_THAT(c.error().message(), HasSubstr("1024 bytes"));
}

TEST_F(ExecCredentialTest, MissingCommandGivesTheInstallHint) {
  for (std::string command : {std::string("kinf-no-such-plugin-3f9e"), dir_ + "/missing"}) {
    SCOPED_TRACE(command);
    ExecConfig e = Exec(command);
    e.install_hint = "Install it with: apt install kinf-plugin";
    Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(c.error().message(), HasSubstr("exec plugin \"" + command + "\""));
    EXPECT_THAT(c.error().message(), HasSubstr("not found"));
    EXPECT_THAT(c.error().message(), HasSubstr("Install it with: apt install kinf-plugin"));
  }
}

TEST_F(ExecCredentialTest, InstallHintLosesEscapeSequences) {
  ExecConfig e = Exec("kinf-no-such-plugin-3f9e");
  e.install_hint = "\x1b[1mInstall\x1b[0m:\n\tapt install x";
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr("?[1mInstall?[0m:\n\tapt install x"));
}

TEST_F(ExecCredentialTest, NonExecutableCommandGivesTheInstallHint) {
  ExecConfig e = Exec(Script("plain", "exit 0", /*executable=*/false));
  e.install_hint = "chmod +x it";
  Result<ExecCredential> c = RunExecCredentialPlugin(e, cluster_);
  ASSERT_FALSE(c);
  EXPECT_THAT(c.error().message(), HasSubstr("Permission denied"));
  EXPECT_THAT(c.error().message(), HasSubstr("chmod +x it"));
}

TEST_F(ExecCredentialTest, RefusedConfigurations) {
  ExecConfig always = Exec(PrintingPlugin("p", Credential("{\"token\":\"t\"}")));
  always.interactive_mode = "Always";
  Result<ExecCredential> a = RunExecCredentialPlugin(always, cluster_);
  ASSERT_FALSE(a);
  EXPECT_THAT(a.error().message(), HasSubstr("interactiveMode Always"));

  Result<ExecCredential> old =
      RunExecCredentialPlugin(Exec(dir_ + "/p", "client.authentication.k8s.io/v1alpha1"), cluster_);
  ASSERT_FALSE(old);
  EXPECT_THAT(old.error().message(), HasSubstr("unsupported apiVersion"));

  Result<ExecCredential> none = RunExecCredentialPlugin(Exec(""), cluster_);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), StatusCode::kInvalidArgument);
}

// --- ExecCredentialProvider --------------------------------------------------------------------

class ExecCredentialProviderTest : public ExecCredentialTest {
 protected:
  // A plugin that counts its runs in a file and returns token "tok-<run>", with `expiry` as
  // expirationTimestamp when not empty. It fails while the file `fail` exists.
  RestConfig CountingConfig(const std::string& expiry = "") {
    std::string status = expiry.empty()
                             ? R"("token":"tok-%s")"
                             : R"("token":"tok-%s","expirationTimestamp":")" + expiry + "\"";
    std::string plugin =
        Script("counting", "if [ -e '" + dir_ +
                               "/fail' ]; then exit 1; fi\n"
                               "echo run >> '" +
                               dir_ +
                               "/count'\n"
                               "n=$(wc -l < '" +
                               dir_ +
                               "/count')\n"
                               "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                               "\"kind\":\"ExecCredential\",\"status\":{" +
                               status + "}}' $n");
    RestConfig config;
    config.server = "https://c.example";
    config.exec = Exec(plugin);
    return config;
  }
};

TEST_F(ExecCredentialProviderTest, CachesUntilInvalidated) {
  ExecCredentialProvider provider(CountingConfig());
  Result<ExecCredential> first = provider.Get();
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->token, "tok-1");
  EXPECT_EQ(provider.Get()->token, "tok-1");
  EXPECT_EQ(provider.runs(), 1);
  provider.Invalidate();
  EXPECT_EQ(provider.Get()->token, "tok-2");
  EXPECT_EQ(provider.runs(), 2);
}

TEST_F(ExecCredentialProviderTest, RunsAgainAfterExpiry) {
  system_clock::time_point now =
      std::chrono::sys_days(std::chrono::year(2029) / 12 / 31) + std::chrono::hours(23);
  ExecCredentialProvider provider(CountingConfig("2030-01-01T00:00:00Z"),
                                  {.now = [&now] { return now; }});
  Result<ExecCredential> first = provider.Get();
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->token, "tok-1");
  now += std::chrono::minutes(59);
  EXPECT_EQ(provider.Get()->token, "tok-1");
  now += std::chrono::minutes(2);  // past the expiry
  EXPECT_EQ(provider.Get()->token, "tok-2");
  EXPECT_EQ(provider.runs(), 2);
}

TEST_F(ExecCredentialProviderTest, CredentialWithoutExpiryLastsUntilInvalidated) {
  system_clock::time_point now = system_clock::now();
  ExecCredentialProvider provider(CountingConfig(), {.now = [&now] { return now; }});
  ASSERT_TRUE(provider.Get());
  now += std::chrono::hours(24 * 365);
  EXPECT_EQ(provider.Get()->token, "tok-1");
}

TEST_F(ExecCredentialProviderTest, InvalidateIfCurrentIgnoresAStaleCredential) {
  ExecCredentialProvider provider(CountingConfig());
  ExecCredential first = *provider.Get();
  provider.Invalidate();
  ExecCredential second = *provider.Get();
  ASSERT_EQ(second.token, "tok-2");
  provider.InvalidateIfCurrent(first);  // a late 401 for the old token
  EXPECT_EQ(provider.Get()->token, "tok-2");
  provider.InvalidateIfCurrent(second);
  EXPECT_EQ(provider.Get()->token, "tok-3");
  EXPECT_EQ(provider.runs(), 3);
}

TEST_F(ExecCredentialProviderTest, ConcurrentCallersShareOneRun) {
  ExecCredentialProvider provider(CountingConfig());
  std::vector<std::string> tokens(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < tokens.size(); ++i) {
    threads.emplace_back([&provider, &tokens, i] {
      Result<ExecCredential> c = provider.Get();
      tokens[i] = c ? c->token : c.error().ToString();
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& t : tokens) EXPECT_EQ(t, "tok-1");
  EXPECT_EQ(provider.runs(), 1);
}

TEST_F(ExecCredentialProviderTest, FailuresAreNotCached) {
  std::ofstream(dir_ + "/fail") << "";
  ExecCredentialProvider provider(CountingConfig());
  Result<ExecCredential> failed = provider.Get();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable);
  std::filesystem::remove(dir_ + "/fail");
  Result<ExecCredential> ok = provider.Get();
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->token, "tok-1");
  EXPECT_EQ(provider.runs(), 2);
}

TEST_F(ExecCredentialProviderTest, ConfigWithoutExecIsInvalidArgument) {
  ExecCredentialProvider provider(RestConfig{});
  Result<ExecCredential> c = provider.Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kube
