// The informer collector against an informer over a FakeListerWatcher.
#include "kube/informers/informer_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/testing/fake_lister_watcher.h"
#include "tests/testing/objects.h"

namespace kube::metrics {
namespace {

using std::chrono_literals::operator""s;
using ::kube::testing::FakeListerWatcher;
using ::kube::testing::MakePod;
using ::testing::HasSubstr;
using ::testing::Not;

class InformerMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SharedInformerOptions o;
    o.name = "pods";
    o.clock = clock_;
    informer_ = SharedIndexInformer::Create(lw_, std::move(o));
  }
  void TearDown() override {
    if (informer_) informer_->Stop();
  }
  // Renders until `text` appears (stats are updated by the informer's threads).
  std::string RenderUntil(const std::string& text) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
      out = registry_.Render();
      if (out.find(text) != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } while (std::chrono::steady_clock::now() < deadline);
    return out;
  }

  std::shared_ptr<FakeListerWatcher> lw_ = std::make_shared<FakeListerWatcher>();
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<SharedIndexInformer> informer_;
  Registry registry_;
};

TEST_F(InformerMetricsTest, ReportsCacheEventsListsAndHandlers) {
  CollectorHandle handle = RegisterInformer(registry_, "pods", *informer_);
  auto reg = informer_->AddEventHandler(ResourceEventHandlerFuncs{}, {.name = "printer"});
  ASSERT_TRUE(reg.has_value());
  lw_->SetObjects({MakePod("ns", "a", {.rv = "1"}), MakePod("ns", "b", {.rv = "2"})}, "10");
  informer_->Run();
  ASSERT_TRUE(informer_->WaitForCacheSync(10s));
  auto watch = lw_->WaitForWatch(1);
  ASSERT_NE(watch, nullptr);
  watch->Send(WatchEventType::kModified, MakePod("ns", "a", {.rv = "11"}));
  watch->Send(WatchEventType::kDeleted, MakePod("ns", "b", {.rv = "12"}));

  const std::string text = RenderUntil(
      "kube_informer_handler_notifications_total{resource=\"pods\",handler=\"printer\"} 4\n");
  EXPECT_THAT(text, HasSubstr("# TYPE kube_informer_objects gauge\n"
                              "kube_informer_objects{resource=\"pods\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE kube_informer_events_total counter\n"
                              "kube_informer_events_total{resource=\"pods\",type=\"add\"} 2\n"
                              "kube_informer_events_total{resource=\"pods\",type=\"update\"} 1\n"
                              "kube_informer_events_total{resource=\"pods\",type=\"delete\"} 1\n"
                              "kube_informer_events_total{resource=\"pods\",type=\"resync\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("kube_informer_lists_total{resource=\"pods\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("kube_informer_relists_total{resource=\"pods\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("kube_informer_watch_restarts_total{resource=\"pods\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("kube_informer_last_sync_resource_version{resource=\"pods\"} 12\n"));
  EXPECT_THAT(
      text,
      HasSubstr("kube_informer_handler_queue_depth{resource=\"pods\",handler=\"printer\"} 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr("kube_informer_handler_lag_seconds{resource=\"pods\",handler=\"printer\"} 0\n"));
  EXPECT_THAT(
      text,
      HasSubstr("kube_informer_handler_failures_total{resource=\"pods\",handler=\"printer\"} 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("resource_version_info")));
}

TEST_F(InformerMetricsTest, ANonNumericResourceVersionIsReportedAsALabel) {
  CollectorHandle handle = RegisterInformer(registry_, "pods", *informer_);
  lw_->SetObjects({MakePod("ns", "a", {.rv = "x1"})}, "opaque-7");
  informer_->Run();
  ASSERT_TRUE(informer_->WaitForCacheSync(10s));
  const std::string text = RenderUntil("resource_version_info{");
  EXPECT_THAT(text, HasSubstr("kube_informer_last_sync_resource_version_info{resource=\"pods\","
                              "resource_version=\"opaque-7\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("kube_informer_last_sync_resource_version{")));
}

TEST_F(InformerMetricsTest, ReportsNothingOnceTheInformerOrHandleIsGone) {
  {
    CollectorHandle handle = RegisterInformer(registry_, "pods", *informer_);
    EXPECT_THAT(registry_.Render(), HasSubstr("kube_informer_objects{resource=\"pods\"} 0\n"));
  }
  EXPECT_EQ(registry_.Render(), "");
  CollectorHandle handle = RegisterInformer(registry_, "pods", *informer_);
  informer_->Stop();
  informer_.reset();
  EXPECT_EQ(registry_.Render(), "");
}

}  // namespace
}  // namespace kube::metrics
