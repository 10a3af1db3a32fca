// Security properties (docs/security.md): the embedded server refuses to listen beyond loopback
// without authentication, writes kubeconfigs owner-only, and the client verifies TLS by default
// and skips verification only when told to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "kube/client/http_client.h"
#include "kube/client/rest_client.h"
#include "kube/server/api_server.h"
#include "tests/client/scripted_server.h"

namespace kube {
namespace {

using ::testing::HasSubstr;
using testing::TestPki;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/kube-informer-security-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

unsigned Mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

TEST(ServerExposureTest, NonLoopbackWithoutAuthenticationIsRefused) {
  for (const char* address : {"0.0.0.0", "::"}) {
    SCOPED_TRACE(address);
    auto server = EmbeddedApiServer::Start({.address = address});
    ASSERT_FALSE(server);
    EXPECT_EQ(server.error().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(server.error().message(), HasSubstr(std::string("refusing to listen on ") +
                                                    address + " without authentication"));
    EXPECT_THAT(server.error().message(), HasSubstr("--insecure-allow-anonymous"));
  }
}

TEST(ServerExposureTest, NonLoopbackWithATokenFileOrExplicitConsentStarts) {
  TempDir dir;
  std::string tokens = dir.path + "/tokens.csv";
  std::ofstream(tokens) << "t0ken,alice,1\n";
  auto with_tokens = EmbeddedApiServer::Start({.address = "0.0.0.0", .token_auth_file = tokens});
  ASSERT_TRUE(with_tokens) << with_tokens.error();
  // Unauthenticated requests get 401 there.
  RestConfig config;
  config.server = (*with_tokens)->Url();
  auto client = MakeCurlHttpClient(config);
  ASSERT_TRUE(client);
  Result<ObjectList> list = ResourceClient(*client, {"", "v1", "pods"}).List();
  ASSERT_FALSE(list);
  EXPECT_TRUE(IsUnauthorized(list.error())) << list.error();

  ApiServerOptions anonymous;
  anonymous.address = "0.0.0.0";
  anonymous.allow_anonymous_non_loopback = true;
  auto open = EmbeddedApiServer::Start(anonymous);
  EXPECT_TRUE(open) << open.error();
}

TEST(ServerExposureTest, LoopbackNeedsNoAuthentication) {
  for (const char* address : {"127.0.0.1", "127.0.0.2"}) {
    SCOPED_TRACE(address);
    auto server = EmbeddedApiServer::Start({.address = address});
    EXPECT_TRUE(server) << server.error();
  }
}

TEST(KubeconfigFileTest, WrittenOwnerOnlyEvenOverAWiderFile) {
  TempDir dir;
  auto server = EmbeddedApiServer::Start({});
  ASSERT_TRUE(server) << server.error();
  std::string fresh = dir.path + "/fresh.kubeconfig";
  ASSERT_TRUE((*server)->WriteKubeconfig(fresh, {.token = "t0ken"}).ok());
  EXPECT_EQ(Mode(fresh), 0600u);
  std::string existing = dir.path + "/existing.kubeconfig";
  std::ofstream(existing) << "old";
  ::chmod(existing.c_str(), 0644);
  ASSERT_TRUE((*server)->WriteKubeconfig(existing, {.token = "t0ken"}).ok());
  EXPECT_EQ(Mode(existing), 0600u);
}

class TlsVerificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!pki_.ok) GTEST_SKIP() << "the openssl command could not make test certificates";
    auto server = EmbeddedApiServer::Start(
        {.tls_cert_file = pki_.server_cert, .tls_private_key_file = pki_.server_key});
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(server).value();
  }

  Result<ObjectList> ListWith(RestConfig config) {
    config.server = server_->Url();
    config.source = "test";
    auto client = MakeCurlHttpClient(config);
    if (!client) return client.error();
    return ResourceClient(*client, {"", "v1", "namespaces"}).List();
  }

  TestPki pki_;
  std::unique_ptr<EmbeddedApiServer> server_;
};

TEST_F(TlsVerificationTest, ServerNobodyTrustsIsRefusedByDefault) {
  // No CA configured: the system store, which does not know the test CA.
  Result<ObjectList> list = ListWith({});
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), StatusCode::kUnavailable);
  EXPECT_THAT(list.error().message(), HasSubstr("GET " + server_->Url()));
  EXPECT_THAT(list.error().message(), HasSubstr("certificate"));
}

TEST_F(TlsVerificationTest, WrongCaIsRefusedAndTheRightOneWorks) {
  RestConfig wrong;
  wrong.ca_data = TestPki::Read(pki_.other_ca_cert);
  Result<ObjectList> refused = ListWith(wrong);
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message(), HasSubstr("certificate"));
  RestConfig right;
  right.ca_data = TestPki::Read(pki_.ca_cert);
  Result<ObjectList> list = ListWith(right);
  EXPECT_TRUE(list) << list.error();
}

TEST_F(TlsVerificationTest, InsecureSkipVerifyOnlyWhenAsked) {
  RestConfig insecure;
  insecure.insecure_skip_tls_verify = true;
  Result<ObjectList> list = ListWith(insecure);
  EXPECT_TRUE(list) << list.error();
}

}  // namespace
}  // namespace kube
