"""Configuration: kubeconfig and in-cluster, as the C++ side loads them."""

import pytest

import kube_informer as ki


def test_in_cluster_reads_the_service_account(tmp_path, monkeypatch):
    (tmp_path / "token").write_text("secret-token\n")
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    monkeypatch.setenv("KUBE_INFORMER_SERVICEACCOUNT_DIR", str(tmp_path))
    config = ki.in_cluster()
    assert config.server == "https://10.0.0.1:6443"
    assert "in-cluster" in config.source
    assert "secret-token" not in repr(config)
    assert ki.in_cluster_or_kubeconfig(str(tmp_path / "absent")).server == config.server


def test_outside_a_pod_in_cluster_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ki.KubeError) as e:
        ki.in_cluster()
    assert e.value.code == "unavailable"
    assert "KUBERNETES_SERVICE_HOST" in str(e.value)


def test_missing_or_malformed_kubeconfig(tmp_path):
    with pytest.raises(ki.KubeError) as e:
        ki.load_kubeconfig(str(tmp_path / "absent"))
    assert e.value.code == "not_found"
    bad = tmp_path / "bad"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: 7\n")
    with pytest.raises(ki.InvalidArgumentError):
        ki.load_kubeconfig(str(bad))


def test_kubeconfig_context_and_server_override(demo):
    config = ki.load_kubeconfig(demo.kubeconfig, context="kinf")
    assert config.server.startswith("http://127.0.0.1:")
    assert ki.load_kubeconfig(demo.kubeconfig, server="http://127.0.0.1:1").server == \
        "http://127.0.0.1:1"
    with pytest.raises(ki.KubeError):
        ki.load_kubeconfig(demo.kubeconfig, context="nope")
