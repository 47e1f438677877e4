"""`make up`: the local control plane, the CRDs, the operator and the examples,
with the jobs shown moving until they settle. Ctrl-C stops what it started.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
FINISHED = {"SUCCESS", "FAILED", "REVOKED"}
COLUMNS = ("NAME", "STATE", "TYPE", "WORKER", "ATTEMPT", "REASON", "MESSAGE")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cluster-bin", default=str(ROOT / "e2e/bin/conveyor-cluster"))
    parser.add_argument("--dir", default=str(ROOT / ".cluster"))
    parser.add_argument("--namespace", default="conveyor-demo")
    parser.add_argument("--dashboard-port", type=int, default=8090)
    args = parser.parse_args()

    state_dir = pathlib.Path(args.dir).resolve()
    kubeconfig = state_dir / "kubeconfig"
    cluster_bin = args.cluster_bin

    def kubectl(*argv: str, check: bool = True) -> str:
        result = subprocess.run(
            [cluster_bin, "kubectl", "--kubeconfig", str(kubeconfig), *argv],
            capture_output=True,
            text=True,
        )
        if check and result.returncode != 0:
            sys.exit(f"kubectl {' '.join(argv)}: {result.stderr.strip()}")
        return result.stdout

    started_cluster = (
        subprocess.run([cluster_bin, "status", "--dir", args.dir], capture_output=True).returncode
        != 0
    )
    if started_cluster:
        print("== starting the local control plane")
        subprocess.run([cluster_bin, "up", "--dir", args.dir], check=True)
    print("== installing the CRDs")
    kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
    kubectl("wait", "--for=condition=Established", "-f", str(ROOT / "crds"))

    ns = args.namespace
    print(f"== fresh namespace {ns}")
    kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true")
    kubectl("create", "namespace", ns)

    log_path = state_dir / "logs" / "operator.log"
    print(f"== starting the operator (log: {log_path})")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig), "PYTHONUNBUFFERED": "1"}
    with log_path.open("ab") as log:
        operator = subprocess.Popen(
            [sys.executable, "-m", "conveyor.cli.main", "operator", "--metrics-port", "0"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    dashboard_log = state_dir / "logs" / "dashboard.log"
    dashboard_url = f"http://127.0.0.1:{args.dashboard_port}/"
    print(f"== starting the dashboard at {dashboard_url} (log: {dashboard_log})")
    command = [sys.executable, "-m", "conveyor.cli.main", "dashboard", "-A"]
    with dashboard_log.open("ab") as log:
        dashboard = subprocess.Popen(
            [*command, "--port", str(args.dashboard_port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(*_: object) -> None:
        print("\n== stopping the dashboard")
        dashboard.send_signal(signal.SIGTERM)
        try:
            dashboard.wait(timeout=20)
        except subprocess.TimeoutExpired:
            dashboard.kill()
        print("== stopping the operator")
        operator.send_signal(signal.SIGTERM)
        try:
            operator.wait(timeout=20)
        except subprocess.TimeoutExpired:
            operator.kill()
        if started_cluster:
            print("== stopping the local control plane")
            subprocess.run([cluster_bin, "down", "--dir", args.dir], check=False)
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    print("== applying manifests/examples/")
    kubectl("apply", "-n", ns, "-f", str(ROOT / "manifests/examples/workers.yaml"))
    kubectl("apply", "-n", ns, "-f", str(ROOT / "manifests/examples/jobs.yaml"))
    kubectl("apply", "-n", ns, "-f", str(ROOT / "manifests/examples/cronjobs.yaml"))
    print(f"== dashboard: {dashboard_url}")
    print(f"== watching (like `kubectl get pj -n {ns} -w`); Ctrl-C stops\n")
    print(_row(COLUMNS))

    last: dict[str, tuple[str, ...]] = {}
    settled_announced = False
    while True:
        items = json.loads(kubectl("get", "pipelinejobs", "-n", ns, "-o", "json"))["items"]
        for item in items:
            row = _columns(item)
            name = row[0]
            if last.get(name) != row:
                last[name] = row
                print(_row(row))
        states = [(i.get("status") or {}).get("state") for i in items]
        # The every-minute smoke-test keeps adding runs; the rest settle.
        states = [
            st
            for st, i in zip(states, items, strict=True)
            if "conveyor.dev/cronjob" not in (i["metadata"].get("labels") or {})
        ]
        if items and all(s in FINISHED for s in states) and not settled_announced:
            settled_announced = True
            print("\n== all jobs settled. Try:")
            print(f"   export KUBECONFIG={kubeconfig}")
            print(f"   {cluster_bin} kubectl get pj,wk -n {ns}")
            print(f"   Open the dashboard: {dashboard_url}")
            print("   The operator and the dashboard keep running; Ctrl-C stops them.")
        if operator.poll() is not None:
            sys.exit(f"the operator exited ({operator.returncode}); see {log_path}")
        if dashboard.poll() is not None:
            sys.exit(f"the dashboard exited ({dashboard.returncode}); see {dashboard_log}")
        time.sleep(0.5)


def _columns(item: dict[str, object]) -> tuple[str, ...]:
    status = item.get("status") or {}
    spec = item.get("spec") or {}
    assert isinstance(status, dict)
    assert isinstance(spec, dict)
    metadata = item["metadata"]
    assert isinstance(metadata, dict)
    return (
        str(metadata["name"]),
        str(status.get("state", "")),
        str(spec.get("type", "")),
        str(status.get("worker", "")),
        str(status.get("attempt", "")),
        str(status.get("reason", "")),
        str(status.get("message", ""))[:70],
    )


def _row(values: tuple[str, ...]) -> str:
    widths = (20, 9, 15, 15, 8, 17, 0)
    return "".join(v.ljust(w) if w else v for v, w in zip(values, widths, strict=True))


if __name__ == "__main__":
    sys.exit(main())
