// EmbeddedApiServer security: TLS, client certificates, bearer tokens, and the kubeconfig writer
// (checked with the real kubectl when it is installed).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/testing/api_server_fixture.h"

namespace kube::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

int Shell(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A CA, a server certificate for 127.0.0.1 and a client certificate for "alice", made once with
// the openssl tool.
class Certificates {
 public:
  static const Certificates* Get() {
    static const Certificates* certs = [] {
      auto* c = new Certificates();
      if (!c->Make()) {
        delete c;
        return static_cast<Certificates*>(nullptr);
      }
      return c;
    }();
    return certs;
  }
  fs::path dir;
  std::string ca() const { return (dir / "ca.crt").string(); }
  std::string server_cert() const { return (dir / "server.crt").string(); }
  std::string server_key() const { return (dir / "server.key").string(); }
  std::string client_cert() const { return (dir / "client.crt").string(); }
  std::string client_key() const { return (dir / "client.key").string(); }
  std::string other_cert() const { return (dir / "other.crt").string(); }
  std::string other_key() const { return (dir / "other.key").string(); }

 private:
  bool Make() {
    if (Shell("openssl version") != 0) return false;
    char tmpl[] = "/tmp/kinf-certs-XXXXXX";
    if (!mkdtemp(tmpl)) return false;
    dir = tmpl;
    std::string d = dir.string();
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::ofstream(dir / "server.ext") << "subjectAltName=IP:127.0.0.1\n";
    return Shell("openssl req -x509 " + key + " -keyout " + d + "/ca.key -out " + d +
                 "/ca.crt -days 2 -subj /CN=kinf-test-ca") == 0 &&
           Shell("openssl req " + key + " -keyout " + d + "/server.key -out " + d +
                 "/server.csr -subj /CN=127.0.0.1") == 0 &&
           Shell("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
                 "/ca.key -CAcreateserial -out " + d + "/server.crt -days 2 -extfile " + d +
                 "/server.ext") == 0 &&
           Shell("openssl req " + key + " -keyout " + d + "/client.key -out " + d +
                 "/client.csr -subj /CN=alice/O=developers/O=testers") == 0 &&
           Shell("openssl x509 -req -in " + d + "/client.csr -CA " + d + "/ca.crt -CAkey " + d +
                 "/ca.key -CAcreateserial -out " + d + "/client.crt -days 2") == 0 &&
           // Self-signed, so not trusted by the server's client CA.
           Shell("openssl req -x509 " + key + " -keyout " + d + "/other.key -out " + d +
                 "/other.crt -days 2 -subj /CN=mallory") == 0;
  }
};

class ApiServerTlsTest : public ApiServerFixture {
 protected:
  void SetUp() override {
    certs_ = Certificates::Get();
    if (!certs_) GTEST_SKIP() << "openssl tool not available to make test certificates";
    std::ofstream(certs_->dir / "tokens.csv")
        << "s3cr3t,bob,1001,\"devs,ops\"\n# comment\nother-token,carol,1002\n";
    ApiServerFixture::SetUp();
  }
  ApiServerOptions Options() const override {
    ApiServerOptions o = ApiServerFixture::Options();
    o.tls_cert_file = certs_->server_cert();
    o.tls_private_key_file = certs_->server_key();
    o.client_ca_file = certs_->ca();
    o.token_auth_file = (certs_->dir / "tokens.csv").string();
    return o;
  }
  ClientOptions ClientOpts() const override { return {.ca_file = certs_->ca()}; }

  const Certificates* certs_ = nullptr;
};

TEST_F(ApiServerTlsTest, ServesHttpsAndHealthWithoutCredentials) {
  EXPECT_THAT(server().Url(), ::testing::StartsWith("https://127.0.0.1:"));
  EXPECT_EQ(Get("/readyz").code, 200);
  EXPECT_EQ(Get("/version").code, 200);
}

TEST_F(ApiServerTlsTest, RequestsWithoutCredentialsAreUnauthorized) {
  HttpResult r = Get("/api/v1/namespaces");
  EXPECT_EQ(r.code, 401);
  EXPECT_EQ(r.Json()["reason"], "Unauthorized");
  EXPECT_EQ(r.Json()["kind"], "Status");
}

TEST_F(ApiServerTlsTest, BearerTokenFromTokenFile) {
  TestHttpClient bob(server().Url(), {.ca_file = certs_->ca(), .token = "s3cr3t"});
  EXPECT_EQ(bob.Get("/api/v1/namespaces").code, 200);
  TestHttpClient carol(server().Url(), {.ca_file = certs_->ca(), .token = "other-token"});
  EXPECT_EQ(carol.Get("/api/v1/namespaces").code, 200);
  TestHttpClient wrong(server().Url(), {.ca_file = certs_->ca(), .token = "guess"});
  EXPECT_EQ(wrong.Get("/api/v1/namespaces").code, 401);
}

TEST_F(ApiServerTlsTest, ClientCertificateSignedByClientCa) {
  TestHttpClient alice(server().Url(), {.ca_file = certs_->ca(),
                                        .client_cert_file = certs_->client_cert(),
                                        .client_key_file = certs_->client_key()});
  EXPECT_EQ(alice.Get("/api/v1/namespaces").code, 200);
  // A certificate from another CA fails the handshake.
  TestHttpClient mallory(server().Url(), {.ca_file = certs_->ca(),
                                          .client_cert_file = certs_->other_cert(),
                                          .client_key_file = certs_->other_key()});
  EXPECT_EQ(mallory.Get("/api/v1/namespaces").code, 0);
}

TEST_F(ApiServerTlsTest, CertificateUserIsItsCommonNameWithOrganizationsAsGroups) {
  TestHttpClient alice(server().Url(), {.ca_file = certs_->ca(),
                                        .client_cert_file = certs_->client_cert(),
                                        .client_key_file = certs_->client_key()});
  HttpResult r = alice.Request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", "{}",
                               {"Content-Type: application/json"});
  EXPECT_EQ(r.code, 201);
  EXPECT_EQ(r.Json()["status"]["userInfo"],
            nlohmann::json({{"username", "alice"},
                            {"groups", {"developers", "testers", "system:authenticated"}}}));
}

TEST_F(ApiServerTlsTest, WatchOverTls) {
  WatchClient w(server().Url() +
                    "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=" +
                    std::to_string(server().ResourceVersion()),
                {.ca_file = certs_->ca(), .token = "s3cr3t"});
  ASSERT_TRUE(w.WaitForHeaders());
  EXPECT_EQ(w.status(), 200);
  MustCreate(ConfigMapJson("default", "tls"));
  auto e = w.Next();
  ASSERT_TRUE(e);
  EXPECT_EQ((*e)["object"]["metadata"]["name"], "tls");
}

TEST_F(ApiServerTlsTest, KubeconfigReachesTheServerWithKubectl) {
  fs::path kubeconfig = certs_->dir / "kubeconfig";
  ASSERT_TRUE(
      server()
          .WriteKubeconfig(kubeconfig.string(), {.certificate_authority_file = certs_->ca()})
          .ok());
  std::string text = ReadAll(kubeconfig);
  EXPECT_THAT(text, HasSubstr("certificate-authority-data: "));
  EXPECT_THAT(text, HasSubstr("token: \"s3cr3t\""));  // the token file's first user
  EXPECT_THAT(text, HasSubstr(server().Url()));
  if (Shell("test -x /usr/bin/kubectl") != 0) GTEST_SKIP() << "kubectl not installed";
  fs::path out = certs_->dir / "kubectl.out";
  std::string cmd = "/usr/bin/kubectl --kubeconfig " + kubeconfig.string() + " --cache-dir " +
                    (certs_->dir / "cache").string() + " get namespaces -o name > " + out.string() +
                    " 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << ReadAll(out);
  EXPECT_THAT(ReadAll(out), HasSubstr("namespace/default"));
}

TEST(ApiServerAuthTest, TokenFileFormatErrors) {
  char path[] = "/tmp/kinf-tokens-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path) << "only-a-token\n";
  auto bad = EmbeddedApiServer::Start({.token_auth_file = path});
  EXPECT_FALSE(bad);
  auto missing = EmbeddedApiServer::Start({.token_auth_file = "/nonexistent/tokens.csv"});
  EXPECT_FALSE(missing);
  std::remove(path);
}

TEST(ApiServerAuthTest, PlainKubeconfig) {
  auto srv = EmbeddedApiServer::Start({});
  ASSERT_TRUE(srv) << srv.error();
  char path[] = "/tmp/kinf-kubeconfig-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_TRUE((*srv)->WriteKubeconfig(path).ok());
  std::string text = ReadAll(path);
  EXPECT_THAT(text, HasSubstr("server: \"" + (*srv)->Url() + "\""));
  EXPECT_THAT(text, HasSubstr("current-context: \"kinf\""));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("certificate-authority")));
  std::remove(path);
}

TEST(ApiServerAuthTest, BadTlsFilesFailToStart) {
  auto srv = EmbeddedApiServer::Start(
      {.tls_cert_file = "/nonexistent.crt", .tls_private_key_file = "/nonexistent.key"});
  EXPECT_FALSE(srv);
  auto ca_without_tls = EmbeddedApiServer::Start({.client_ca_file = "/x.crt"});
  EXPECT_FALSE(ca_without_tls);
}

}  // namespace
}  // namespace kube::testing
