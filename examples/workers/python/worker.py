#!/usr/bin/env python3
"""A Taskdock remote worker in plain Python (standard library only).

It declares the workflows below, leases their tasks over HTTP, runs one function per workflow
on a thread, sends heartbeats (progress, log lines) on another, stops a task the API cancels,
and on SIGTERM/SIGINT hands its tasks back (release) so another worker picks them up.

    TASKDOCK_URL=http://127.0.0.1:PORT TASKDOCK_WORKER_TOKEN=tdw_... python3 worker.py

Environment: TASKDOCK_URL (required), TASKDOCK_WORKER_TOKEN (a worker token, or the main
token), TASKDOCK_WORKER_ID (default: <host>-<pid>), TASKDOCK_WORKER_MAX (parallel tasks, 4),
TASKDOCK_WORKER_CA (a CA file for https with a private certificate). The protocol:
docs/remote-workers.md.
"""

import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request

POLL_WAIT_MS = 10_000


class Cancelled(Exception):
    """Raised by a task function when `task.cancelled` is set."""


class Permanent(Exception):
    """A failure that retrying will not fix: the task fails at once (retryable: false)."""


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Api:
    def __init__(self, url, token, ca_file=None):
        self.url = url.rstrip("/")
        self.token = token
        self.context = ssl.create_default_context(cafile=ca_file) if ca_file else None

    def call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self.context) as res:
                text = res.read().decode()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as err:
            raise ApiError(err.code, err.read().decode()) from None


class TaskContext:
    """What a task function gets: its params, progress and log reporting, and the cancel flag."""

    def __init__(self, task):
        self.task = task
        self.params = task["params"]
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._progress = None
        self._logs = []

    def progress(self, percent, step=None):
        with self._lock:
            self._progress = {"percent": percent} if step is None else {"percent": percent, "step": step}

    def log(self, line):
        with self._lock:
            self._logs.append(str(line))

    def check_cancelled(self):
        if self.cancelled.is_set():
            raise Cancelled()

    def take_logs(self):
        """The log lines not sent yet, for the final call (complete/fail carry no progress)."""
        with self._lock:
            logs, self._logs = self._logs, []
        return {"logs": logs[-1000:]} if logs else {}

    def take_report(self):
        with self._lock:
            report = {}
            if self._progress is not None:
                report["progress"] = self._progress
                self._progress = None
            if self._logs:
                report["logs"] = self._logs[:1000]
                self._logs = self._logs[1000:]
            return report


class Worker:
    def __init__(self, api, worker_id, workflows, max_tasks):
        self.api = api
        self.worker_id = worker_id
        self.workflows = workflows
        self.max_tasks = max_tasks
        self.stopping = threading.Event()
        self.active = {}  # lease id -> TaskContext
        self.released = set()
        self.lock = threading.Lock()

    def declare(self):
        for name, workflow in self.workflows.items():
            self.api.call("PUT", f"/api/workflows/{name}", {
                "description": workflow["description"],
                "paramsSchema": workflow["paramsSchema"],
                "remote": True,
            })

    def run(self):
        while not self.stopping.is_set():
            with self.lock:
                free = self.max_tasks - len(self.active)
            if free <= 0:
                time.sleep(0.05)
                continue
            try:
                answer = self.api.call("POST", "/api/leases", {
                    "workerId": self.worker_id,
                    "workflows": list(self.workflows),
                    "max": free,
                    "waitMs": POLL_WAIT_MS,
                }, timeout=POLL_WAIT_MS / 1000 + 30)
            except (ApiError, OSError) as err:
                print(f"lease request failed: {err}; retrying", file=sys.stderr, flush=True)
                self.stopping.wait(1)
                continue
            late = [lease for lease in answer["leases"] if self.stopping.is_set()]
            for lease in late:
                self._release(lease["leaseId"])
            if late:
                print(f"released {len(late)} task(s) leased during shutdown", flush=True)
            for lease in answer["leases"]:
                if lease not in late:
                    self._start(lease)

    def _start(self, lease):
        ctx = TaskContext(lease["task"])
        lease_id = lease["leaseId"]
        with self.lock:
            self.active[lease_id] = ctx
        done = threading.Event()
        threading.Thread(target=self._heartbeat, args=(lease, ctx, done), daemon=True).start()
        threading.Thread(target=self._execute, args=(lease, ctx, done), daemon=True).start()

    def _heartbeat(self, lease, ctx, done):
        interval = lease["heartbeatIntervalMs"] / 1000
        while not done.wait(interval):
            try:
                answer = self.api.call("POST", f"/api/leases/{lease['leaseId']}/heartbeat", ctx.take_report())
                if answer["cancelRequested"]:
                    ctx.cancelled.set()
            except ApiError as err:
                if err.status in (404, 409):  # the lease is gone: stop the task
                    ctx.cancelled.set()
                    return
            except OSError as err:
                print(f"heartbeat failed: {err}", file=sys.stderr, flush=True)

    def _execute(self, lease, ctx, done):
        lease_id = lease["leaseId"]
        workflow = self.workflows[ctx.task["workflow"]]
        try:
            result = workflow["run"](ctx)
            outcome = ("complete", {"result": result, **ctx.take_logs()})
        except Cancelled:
            outcome = ("fail", {"error": {"message": "Cancelled by request", "code": "CANCELLED"}, "retryable": False})
        except Permanent as err:
            outcome = ("fail", {"error": {"message": str(err) or "Failed"}, "retryable": False, **ctx.take_logs()})
        except Exception as err:  # noqa: BLE001 - every failure is reported to the API
            traceback.print_exc()
            outcome = ("fail", {"error": {"message": str(err) or type(err).__name__}, **ctx.take_logs()})
        done.set()
        with self.lock:
            released = lease_id in self.released
            self.active.pop(lease_id, None)
        if released:
            return
        try:
            self.api.call("POST", f"/api/leases/{lease_id}/{outcome[0]}", outcome[1])
        except (ApiError, OSError) as err:
            print(f"{outcome[0]} of {ctx.task['id']} failed: {err}", file=sys.stderr, flush=True)

    def _release(self, lease_id):
        try:
            self.api.call("POST", f"/api/leases/{lease_id}/release", {})
        except (ApiError, OSError) as err:
            print(f"release failed: {err}", file=sys.stderr, flush=True)

    def shutdown(self):
        """Stop leasing, hand every held task back, tell running functions to stop."""
        self.stopping.set()
        with self.lock:
            held = list(self.active.items())
            self.released.update(lease_id for lease_id, _ in held)
        for lease_id, ctx in held:
            ctx.cancelled.set()
            self._release(lease_id)
        print(f"released {len(held)} task(s)", flush=True)


# The workflows this worker serves: a schema for their params and a function to run.

def echo(task):
    steps = task.params.get("steps", 3)
    for i in range(steps):
        task.check_cancelled()
        task.progress(round(100 * i / steps), f"step {i + 1} of {steps}")
        task.log(f"python step {i + 1}")
        time.sleep(task.params.get("stepMs", 100) / 1000)
    return {"echo": task.params["message"], "python": sys.version.split()[0]}


WORKFLOWS = {
    "py-echo": {
        "description": "Echoes a message back from a Python worker, in steps",
        "paramsSchema": {
            "type": "object",
            "properties": {
                "message": {"type": "string", "maxLength": 1000},
                "steps": {"type": "integer", "minimum": 1, "maximum": 1000},
                "stepMs": {"type": "integer", "minimum": 0, "maximum": 60000},
            },
            "required": ["message"],
            "additionalProperties": False,
        },
        "run": echo,
    },
}


def main():
    url = os.environ.get("TASKDOCK_URL")
    token = os.environ.get("TASKDOCK_WORKER_TOKEN")
    if not url or not token:
        print("set TASKDOCK_URL and TASKDOCK_WORKER_TOKEN", file=sys.stderr)
        return 2
    worker_id = os.environ.get("TASKDOCK_WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"
    api = Api(url, token, os.environ.get("TASKDOCK_WORKER_CA"))
    worker = Worker(api, worker_id, WORKFLOWS, int(os.environ.get("TASKDOCK_WORKER_MAX", "4")))
    worker.declare()
    stopped = threading.Event()

    def on_signal(signum, _frame):
        worker.shutdown()
        stopped.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    poller = threading.Thread(target=worker.run, daemon=True)
    poller.start()
    print(f"worker {worker_id} ready: {', '.join(WORKFLOWS)}", flush=True)
    while not stopped.wait(0.2):
        pass
    # A long-poll in flight may still bring a task: the poller releases it before we exit.
    poller.join(timeout=POLL_WAIT_MS / 1000 + 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
