"""End to end: a Worker whose pods cannot start goes OFFLINE, holds its queue
with a reason, and comes back by itself once its spec is fixed."""

from __future__ import annotations

from typing import Any

import pytest

from e2e.tests import kube
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("operator")]

BAD_IMAGE = {"spec": {"containers": [{"name": "main", "image": "unpullable.invalid/app:1"}]}}
GOOD_IMAGE = {"spec": {"containers": [{"name": "main", "image": "alpine:3.20"}]}}


async def worker_status(k: kube.Kube) -> dict[str, Any]:
    status: dict[str, Any] = (await k.get(kube.WK, "build")).get("status") or {}
    return status


async def test_an_unpullable_image_takes_the_worker_offline_until_fixed(k: kube.Kube) -> None:
    await k.create(builders.worker("build").concurrency(2).template(BAD_IMAGE).obj())
    names = [f"img-{i}" for i in range(4)]
    for name in names:
        await k.create(builders.pipelinejob(name).obj())

    async def offline() -> dict[str, Any] | None:
        st = await worker_status(k)
        return st if st.get("state") == "OFFLINE" else None

    status = await k.wait_for("Worker build OFFLINE", offline)
    assert status["reason"] == "ImagePullFailing"
    assert "cannot start" in status["message"]
    queued = await k.wait_state("img-3", "IN-QUEUE", reason="WorkerOffline")
    assert (
        "ImagePullBackOff" in queued["status"]["message"]
        or "ErrImagePull" in (queued["status"]["message"])
    )

    await k.patch(kube.WK, "build", {"spec": {"template": GOOD_IMAGE}})

    for name in names:
        await k.wait_state(name, "SUCCESS", timeout=90)

    async def online() -> bool:
        return (await worker_status(k)).get("state") == "ONLINE"

    await k.wait_for("Worker build ONLINE again", online)
    first = (await k.pj("img-0"))["status"]
    reasons = [a.get("reason") for a in first["attempts"]]
    assert reasons[0] == "WorkerChanged", first["attempts"]
    assert reasons[-1] == "Succeeded"
