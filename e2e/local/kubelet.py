#!/usr/bin/env python3
"""A narrow kubelet stand-in for Sluice worker Pods on the local control plane (no kubelet there).

Watches Pods labelled app.kubernetes.io/name=sluice-worker (level-based: lists them every
--interval seconds through kubectl) and, for each new Pod:
  * reads its pipeline ConfigMap (the Pod's configMap volume, key pipeline.yaml) into a file,
  * starts `sluice-worker --config <file> --pod-name <pod> --metrics-address 127.0.0.1:0
    --health-address 127.0.0.1:0` with KUBECONFIG, POD_NAME, POD_NAMESPACE, POD_UID and the
    container's literal env values set,
  * once the worker's own /readyz (on 127.0.0.1, the port it logged) answers 200, patches the Pod's
    status to Running/Ready through the status subresource, so the Deployment counts it ready.
When a Pod goes away (scale-down, pipeline deleted) its worker gets SIGTERM and is waited for
(SIGKILL after the Pod's terminationGracePeriodSeconds). A worker that exits on its own is marked
not ready and restarted with a capped backoff, as restartPolicy Always would. On SIGTERM/SIGINT the
harness stops every worker it started before exiting.

It never contacts a pod or service IP: only the API server (through kubectl and $KUBECONFIG) and
the workers' health ports on 127.0.0.1.
"""
import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

POD_SELECTOR = "app.kubernetes.io/name=sluice-worker"
HEALTH_PORT = re.compile(r"health on port (\d+)")
METRICS_PORT = re.compile(r"metrics on port (\d+)")


def log(message):
    print(f"[kubelet {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Kubectl:
    def __init__(self, kubectl):
        self.base = kubectl.split()

    def run(self, *args, stdin=None, check=True):
        done = subprocess.run(self.base + list(args), input=stdin, capture_output=True, text=True, timeout=60)
        if check and done.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)}: {done.stderr.strip()}")
        return done

    def json(self, *args):
        return json.loads(self.run(*args, "-o", "json").stdout)


class Worker:
    """One Pod's worker process and what the harness knows about it."""

    def __init__(self, pod, workdir):
        meta = pod["metadata"]
        self.namespace = meta["namespace"]
        self.name = meta["name"]
        self.uid = meta["uid"]
        self.pod = pod
        self.dir = os.path.join(workdir, self.namespace, self.name)
        self.process = None
        self.ready = False
        self.health_port = None
        self.metrics_port = None
        self.restarts = 0
        self.restart_at = 0.0
        self.stop_deadline = None
        self.started_at = None
        self.log_offset = 0

    @property
    def key(self):
        return f"{self.namespace}/{self.name}"

    def log_path(self):
        return os.path.join(self.dir, "worker.log")


class Harness:
    def __init__(self, args):
        self.args = args
        self.kubectl = Kubectl(args.kubectl)
        self.workers = {}  # uid -> Worker (running or restarting)
        self.stopping = []  # Workers sent SIGTERM, not yet exited
        self.exit_requested = False

    # ---- Pods -> workers
    def sync(self):
        pods = self.kubectl.json("get", "pods", "-A", "-l", POD_SELECTOR)["items"]
        live = {p["metadata"]["uid"]: p for p in pods if not p["metadata"].get("deletionTimestamp")}
        for uid, pod in live.items():
            if uid not in self.workers:
                self.start(pod)
        for uid in [u for u in self.workers if u not in live]:
            self.stop(self.workers.pop(uid), "pod deleted")
        for worker in self.workers.values():
            self.check(worker)
        self.reap()

    def pipeline_file(self, worker):
        cm_name = None
        for volume in worker.pod["spec"].get("volumes", []):
            if "configMap" in volume:
                cm_name = volume["configMap"]["name"]
                break
        if cm_name is None:
            raise RuntimeError(f"pod {worker.key} has no configMap volume")
        cm = self.kubectl.json("-n", worker.namespace, "get", "configmap", cm_name)
        text = cm.get("data", {}).get("pipeline.yaml")
        if text is None:
            raise RuntimeError(f"configmap {worker.namespace}/{cm_name} has no pipeline.yaml")
        os.makedirs(worker.dir, exist_ok=True)
        path = os.path.join(worker.dir, "pipeline.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def command(self, worker, config):
        container = worker.pod["spec"]["containers"][0]
        passthrough, skip = [], {"--config", "--metrics-address", "--health-address", "--pod-name"}
        args = container.get("args", [])
        i = 0
        while i < len(args):
            flag = args[i].split("=", 1)[0]
            if flag in skip:
                i += 1 if "=" in args[i] else 2
                continue
            passthrough.append(args[i])
            i += 1
        return [self.args.worker, "--config", config, "--pod-name", worker.name, "--metrics-address", "127.0.0.1:0",
                "--health-address", "127.0.0.1:0"] + passthrough

    def environment(self, worker):
        env = dict(os.environ)
        for var in worker.pod["spec"]["containers"][0].get("env", []):
            if "value" in var:
                env[var["name"]] = var["value"]
        env.update({"KUBECONFIG": self.args.kubeconfig, "POD_NAME": worker.name, "POD_NAMESPACE": worker.namespace,
                    "POD_UID": worker.uid, "SLUICE_HEARTBEAT_SECONDS": str(self.args.heartbeat_seconds)})
        return env

    def start(self, pod, worker=None):
        worker = worker or Worker(pod, self.args.workdir)
        self.workers[worker.uid] = worker
        try:
            config = self.pipeline_file(worker)
        except (RuntimeError, KeyError) as error:
            log(f"{worker.key}: cannot start yet: {error}")
            self.workers.pop(worker.uid)  # picked up again on the next sync
            return
        cmd = self.command(worker, config)
        # Ports are read from what this start logs (the log is appended across restarts).
        worker.log_offset = os.path.getsize(worker.log_path()) if os.path.exists(worker.log_path()) else 0
        with open(worker.log_path(), "a") as out:
            worker.process = subprocess.Popen(cmd, env=self.environment(worker), stdout=out, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, start_new_session=True)
        worker.started_at = now_rfc3339()
        worker.ready = False
        worker.health_port = None
        log(f"{worker.key}: started worker pid {worker.process.pid} (log {worker.log_path()})")

    def check(self, worker):
        if worker.process is None:
            if time.monotonic() >= worker.restart_at:
                self.start(worker.pod, worker)
            return
        code = worker.process.poll()
        if code is not None:
            worker.restarts += 1
            delay = min(30, 2 ** min(worker.restarts, 5))
            log(f"{worker.key}: worker exited with {code}; restart {worker.restarts} in {delay}s")
            worker.process = None
            worker.restart_at = time.monotonic() + delay
            self.patch_status(worker, ready=False, exit_code=code)
            return
        if worker.ready:
            return
        if worker.health_port is None:
            self.read_ports(worker)
        if worker.health_port is not None and self.readyz(worker.health_port):
            worker.ready = True
            self.patch_status(worker, ready=True)
            log(f"{worker.key}: ready (health 127.0.0.1:{worker.health_port}, metrics 127.0.0.1:{worker.metrics_port})")

    def read_ports(self, worker):
        try:
            with open(worker.log_path(), errors="replace") as f:
                f.seek(worker.log_offset)
                text = f.read()
        except OSError:
            return
        health = HEALTH_PORT.findall(text)
        metrics = METRICS_PORT.findall(text)
        if health:
            worker.health_port = int(health[-1])
        if metrics:
            worker.metrics_port = int(metrics[-1])

    @staticmethod
    def readyz(port):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def patch_status(self, worker, ready, exit_code=None):
        container = worker.pod["spec"]["containers"][0]
        flag = "True" if ready else "False"
        stamp = now_rfc3339()
        state = {"running": {"startedAt": worker.started_at or stamp}}
        if exit_code is not None:
            state = {"waiting": {"reason": "CrashLoopBackOff", "message": f"exited with {exit_code}"}}
        status = {
            "phase": "Running",
            "startTime": worker.started_at or stamp,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp},
                {"type": "Initialized", "status": "True", "lastTransitionTime": stamp},
                {"type": "ContainersReady", "status": flag, "lastTransitionTime": stamp},
                {"type": "Ready", "status": flag, "lastTransitionTime": stamp},
            ],
            "containerStatuses": [{
                "name": container["name"], "image": container.get("image", ""), "imageID": "",
                "ready": ready, "started": exit_code is None, "restartCount": worker.restarts, "state": state,
            }],
        }
        done = self.kubectl.run("-n", worker.namespace, "patch", "pod", worker.name, "--subresource=status",
                                "--type=merge", "-p", json.dumps({"status": status}), check=False)
        if done.returncode != 0:
            log(f"{worker.key}: status patch failed (pod gone?): {done.stderr.strip()}")

    # ---- stopping
    def stop(self, worker, why):
        if worker.process is None or worker.process.poll() is not None:
            return
        grace = worker.pod["spec"].get("terminationGracePeriodSeconds", 30)
        log(f"{worker.key}: {why}: SIGTERM to pid {worker.process.pid} (up to {grace}s)")
        worker.process.send_signal(signal.SIGTERM)
        worker.stop_deadline = time.monotonic() + grace
        self.stopping.append(worker)

    def reap(self):
        still = []
        for worker in self.stopping:
            code = worker.process.poll()
            if code is not None:
                log(f"{worker.key}: worker exited with {code}")
                continue
            if time.monotonic() >= worker.stop_deadline:
                log(f"{worker.key}: still running after its grace period: SIGKILL")
                worker.process.kill()
            still.append(worker)
        self.stopping = still

    def shutdown(self):
        for uid in list(self.workers):
            self.stop(self.workers.pop(uid), "harness exiting")
        deadline = time.monotonic() + self.args.exit_grace
        while self.stopping and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.2)
        for worker in self.stopping:
            log(f"{worker.key}: SIGKILL on harness exit")
            worker.process.kill()
            worker.process.wait()

    def run(self):
        log(f"watching pods {POD_SELECTOR}; workers log under {self.args.workdir}")
        while not self.exit_requested:
            try:
                self.sync()
                if self.args.ready_file and not os.path.exists(self.args.ready_file):
                    open(self.args.ready_file, "w").close()
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as error:
                log(f"sync failed: {error}")
            time.sleep(self.args.interval)
        self.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", required=True, help="path to sluice-worker")
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG", ""))
    parser.add_argument("--kubectl", default="kubectl")
    parser.add_argument("--workdir", required=True, help="per-pod folders: pipeline.yaml, worker.log")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between Pod listings")
    parser.add_argument("--heartbeat-seconds", type=int, default=2)
    parser.add_argument("--exit-grace", type=float, default=20, help="seconds workers get to drain on exit")
    parser.add_argument("--ready-file", default="", help="created after the first successful listing")
    args = parser.parse_args()
    if not args.kubeconfig:
        parser.error("--kubeconfig (or KUBECONFIG) is required")
    args.kubectl = f"{args.kubectl} --kubeconfig {args.kubeconfig}"
    harness = Harness(args)

    def request_exit(signum, _frame):
        log(f"signal {signum}: stopping workers")
        harness.exit_requested = True

    signal.signal(signal.SIGTERM, request_exit)
    signal.signal(signal.SIGINT, request_exit)
    try:
        harness.run()
    finally:
        if harness.workers or harness.stopping:
            harness.shutdown()


if __name__ == "__main__":
    main()
