"""The peer scenario's pure parts: Kueue's configuration, its queue objects,
the Jobs it is given and how its writes are counted."""

from __future__ import annotations

import pytest

from bench import kube, kueue


def render(settings: kueue.Settings) -> dict[str, object]:
    return kueue.configuration(
        settings=settings, metrics_port=1001, health_port=1002, webhook_port=1003, cert_dir="/c"
    )


def test_the_configuration_runs_kueue_as_a_local_process() -> None:
    config = render(kueue.SHIPPED)

    assert config["apiVersion"] == "config.kueue.x-k8s.io/v1beta2"
    assert config["kind"] == "Configuration"
    assert config["leaderElection"] == {"leaderElect": False}
    assert config["internalCertManagement"] == {"enable": False}
    assert config["manageJobsWithoutQueueName"] is False
    assert "waitForPodsReady" not in config
    assert config["metrics"] == {"bindAddress": "127.0.0.1:1001"}
    assert config["health"] == {"healthProbeBindAddress": "127.0.0.1:1002"}
    assert config["webhook"] == {"host": "127.0.0.1", "port": 1003, "certDir": "/c"}
    assert config["integrations"] == {"frameworks": ["batch/job"]}


@pytest.mark.parametrize(
    ("settings", "qps", "burst", "workers"),
    [
        (kueue.SHIPPED, 50, 100, 5),  # controller_manager_config.yaml as shipped
        (kueue.TUNED, 100000, 100000, 50),
    ],
)
def test_client_limits_and_workers_per_settings(
    settings: kueue.Settings, qps: float, burst: int, workers: int
) -> None:
    config = render(settings)

    assert config["clientConnection"] == {"qps": qps, "burst": burst}
    concurrency = config["controller"]["groupKindConcurrency"]  # type: ignore[index]
    assert concurrency["Job.batch"] == workers
    assert concurrency["Workload.kueue.x-k8s.io"] == workers
    # The other reconcilers keep the shipped counts.
    assert concurrency["ClusterQueue.kueue.x-k8s.io"] == 1
    assert concurrency["Pod"] == 5


def test_the_cluster_queue_admits_exactly_c_pods_of_its_namespace() -> None:
    (rf_path, flavor), (cq_path, cq), (lq_path, lq) = kueue.queue_objects(
        name="q", namespace="ns", slots=50
    )

    assert rf_path == "/apis/kueue.x-k8s.io/v1beta2/resourceflavors"
    assert flavor["kind"] == "ResourceFlavor"
    assert cq_path == "/apis/kueue.x-k8s.io/v1beta2/clusterqueues"
    assert cq["spec"]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "ns"}}
    assert cq["spec"]["resourceGroups"] == [
        {
            "coveredResources": ["pods"],
            "flavors": [{"name": "q", "resources": [{"name": "pods", "nominalQuota": 50}]}],
        }
    ]
    assert lq_path == "/apis/kueue.x-k8s.io/v1beta2/namespaces/ns/localqueues"
    assert lq["spec"] == {"clusterQueue": "q"}


def test_a_queued_job_is_the_baselines_suspended_and_labelled() -> None:
    plain = kube.plain_job("j", run_time="1s")

    job = kueue.queued(plain, queue="q")

    assert job["spec"]["suspend"] is True
    assert job["metadata"]["labels"][kueue.QUEUE_LABEL] == "q"
    assert "suspend" not in plain["spec"]  # the baseline's manifest is untouched
    job["spec"].pop("suspend")
    job["metadata"]["labels"].pop(kueue.QUEUE_LABEL)
    assert job == plain


def sample(verb: str, group: str, resource: str, sub: str, value: float) -> object:
    labels = {"verb": verb, "group": group, "resource": resource, "subresource": sub}
    return (labels, value)


def test_kueues_writes_are_those_to_its_resources_and_to_jobs_but_creates_and_status() -> None:
    def scrape(*samples: object) -> dict[str, float]:
        return kueue.server_writes({"apiserver_request_total": list(samples)})  # type: ignore[dict-item]

    before = scrape(
        sample("POST", "kueue.x-k8s.io", "workloads", "", 4.0),
        sample("LIST", "kueue.x-k8s.io", "workloads", "", 100.0),
    )
    after = scrape(
        sample("POST", "kueue.x-k8s.io", "workloads", "", 10.0),
        sample("LIST", "kueue.x-k8s.io", "workloads", "", 900.0),  # a read
        sample("APPLY", "kueue.x-k8s.io", "workloads", "status", 12.0),
        sample("PATCH", "batch", "jobs", "", 6.0),  # Kueue unsuspends
        sample("PUT", "kueue.x-k8s.io", "workloads", "", 6.0),  # its finalizer off
        sample("POST", "batch", "jobs", "", 6.0),  # the benchmark creates
        sample("PUT", "batch", "jobs", "status", 20.0),  # the Job controller
        sample("POST", "", "pods", "", 6.0),
    )

    assert kueue.kueue_writes(before, after) == {
        "APPLY kueue.x-k8s.io/workloads/status": 12.0,
        "PATCH batch/jobs": 6.0,
        "POST kueue.x-k8s.io/workloads": 6.0,
        "PUT kueue.x-k8s.io/workloads": 6.0,
    }


@pytest.mark.parametrize(
    ("conditions", "active"),
    [
        ([{"type": "Active", "status": "True"}], True),
        ([{"type": "Active", "status": "False"}], False),
        ([], False),
    ],
)
def test_active(conditions: list[dict[str, str]], active: bool) -> None:
    assert kueue.active(conditions, "Active") is active
