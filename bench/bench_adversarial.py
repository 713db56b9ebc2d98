"""Worst cases under the sandbox limits: adversarial inputs against a real server, one class at a time.

    .venv/bin/python bench/bench_adversarial.py [--root TREE] [--budget SECONDS] [--only CLASS,...]

Starts `python app.py --port N` of TREE (default: this checkout) the way a user does, drives it
through real Socket.IO connections (python-socketio over WebSocket), and prints per input class
the worst reply time, the server's RSS (now and its peak) and, where it applies, how long the
server stays slow for everybody else.  Every class is within the documented sandbox limits
(docs/web.md); a class that does not finish within --budget seconds is reported as such.
Run it against an older tree (e.g. a `git worktree` of an earlier commit) to compare.

Classes:
  gup-restore-leave  4 clients each send one `sandbox` restore of 40 lines (`mmap P buf 16` and
                     39 x `gup P buf[0] as d x2048`) and disconnect at once; a bystander steps a
                     walkthrough meanwhile (its worst `step`), and we wait for the server to calm down
  gup-restore        the same restore by one client that waits for its reply
  command-undo       200 cycles of `command` (gup ... x2048) + `undo` in one session
  session-200        one session typing 200 ordinary commands (p95 and worst `command` reply),
                     then an era switch, the switch back, the first switch to each other era,
                     an undo and a restore of the same 200 lines at once
  session-max        the same at the sandbox's limits: 3 VMAs x 16 written pages, 4096 references
                     held, a child, copy-on-write faults until the diagram is full (150 objects),
                     then lines that are each run and taken back
  big-lines          40 console lines of 900 KB (`write P buf[0] <900 KB>`): reply time and size
  sessions-memory    8 connections each restoring a 200-command session: RSS growth per session
  cli-fork-chain     `python -m cowviz run` of a 1000-step fork chain: time, peak RSS, exit code
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NS = "/cowviz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process, in MB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k] = int(v.split()[0]) / 1024
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


class Server:
    def __init__(self, root: str):
        import requests
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        python = os.path.join(HERE, ".venv", "bin", "python")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("COWVIZ_LAB", None)
        self.proc = subprocess.Popen([python, "app.py", "--port", str(self.port)], cwd=root, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit("the server did not start")

    def rss(self):
        return rss_mb(self.proc.pid)

    def cpu_s(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settle(self, limit: float = 120) -> float:
        """Wait until the server is idle (a tree that warms its caches at start-up does that first)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit:
            a = self.cpu_s()
            time.sleep(1)
            if self.cpu_s() - a < 0.05:
                break
        return time.monotonic() - t0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def client(server: Server):
    import socketio
    # websocket-client checks that each text frame is UTF-8 in pure Python (without wsaccel): 12 ms
    # of a 62 KB reply on this machine, in the measuring client, not the server.  A browser does
    # that natively; so the benchmark's client skips it, and the reply times are the server's.
    c = socketio.Client(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})
    c.connect(server.url, namespaces=[NS], transports=["websocket"], wait_timeout=30)
    return c


def timed(c, event, data, timeout):
    t = time.perf_counter()
    reply = c.call(event, data, namespace=NS, timeout=timeout)
    return time.perf_counter() - t, reply


def reply_size(reply) -> int:
    return len(json.dumps(reply))


GUP40 = ["mmap P buf 16"] + ["gup P buf[0] as d x2048"] * 39


def session_lines(n: int = 200) -> list[str]:
    """n ordinary sandbox lines within the limits: map, fork, write, pin, unpin, read, vmsplice, exit..."""
    head = ["mmap P buf 8", "fork P C", "mmap P sh 4 shared"]
    body = ["write P buf[0] A", "write C buf[0] B", "read P buf[1]", "pin P buf[2] as nic write longterm",
            "fork P D", "write D buf[2] X", "dma-write nic Z", "read C buf[2]", "unpin nic",
            "gup P buf[3] as dev x64", "write P buf[3] Q", "vmsplice C buf[0] PIPE", "write C buf[0] R",
            "pipe-read PIPE", "exit D", "write P sh[0] S", "fork P D", "write D sh[0] T", "read D buf[4]",
            "mprotect P buf ro", "mprotect P buf rw", "exit D"]
    out = list(head)
    i = 0
    while len(out) < n:
        k = i // len(body)
        out.append(body[i % len(body)].replace("nic", f"nic{k}").replace("PIPE", f"pipe{k}").replace("dev ", f"dev{k} ")
                   .replace("pipe-read", "pipe-read"))
        i += 1
    return out[:n]


def max_session_lines(n: int = 200) -> list[str]:
    """n lines that fill the sandbox to its limits: 3 VMAs of 16 written pages, 4096 references
    held, a child, copy-on-write faults in the child until the diagram is full (150 objects), then
    writes in the parent, each one run and taken back (the benchmark counts them as refused)."""
    vmas = "abc"
    out = [f"mmap P {v} 16" for v in vmas]
    out += [f"write P {v}[{i}] {v}{i}" for v in vmas for i in range(16)]
    out += ["gup P a[0] as g1 x2048", "gup P b[0] as g2 x2048", "fork P C"]
    out += [f"write C {v}[{i}] w{v}{i}" for i in range(16) for v in vmas]
    out += [f"write P {v}[{i}] x{v}{i}" for i in range(16) for v in vmas]
    return out[:n]


def cls_session_max(server, budget):
    """session-200 at the sandbox's limits (max_session_lines): the biggest state the limits allow."""
    return cls_session_200(server, budget, max_session_lines())


def cls_gup_restore(server, budget):
    c = client(server)
    try:
        dt, reply = timed(c, "sandbox", {"era": "5.9", "commands": GUP40}, budget)
        return {"worst_reply_s": round(dt, 3), "ok": reply.get("ok"), "reply_kb": reply_size(reply) // 1024,
                "dropped": len(reply.get("dropped") or [])}
    finally:
        c.disconnect()


def cls_gup_restore_leave(server, budget):
    by = client(server)
    timed(by, "open", {"name": "01-fork-and-cow", "eras": ["5.9"]}, 60)
    leavers = []
    for _ in range(4):
        c = client(server)
        c.emit("sandbox", {"era": "5.9", "commands": GUP40}, namespace=NS)
        leavers.append(c)
    time.sleep(0.3)
    for c in leavers:
        c.disconnect()
    worst, steps, peak = 0.0, [], 0.0
    start = time.monotonic()
    calm_since = None
    calm_at = None
    i = 0
    # Step the bystander until 3 s in a row are fast (< 50 ms), or the budget ends.
    while time.monotonic() - start < budget:
        i += 1
        try:
            dt, _ = timed(by, "step", {"step": i % 8}, budget)
        except Exception:
            dt = budget
        steps.append(dt)
        worst = max(worst, dt)
        peak = max(peak, server.rss()[0])
        now = time.monotonic()
        if dt < 0.05:
            calm_since = calm_since or now
            if now - calm_since >= 3:
                calm_at = calm_since - start
                break
        else:
            calm_since = None
        time.sleep(0.05)
    by.disconnect()
    return {"bystander_worst_step_s": round(worst, 3),
            "bystander_p95_step_s": round(statistics.quantiles(steps, n=20)[-1], 3) if len(steps) > 20 else None,
            "slow_for_s": round(calm_at, 1) if calm_at is not None else f">{budget}", "rss_peak_mb": round(peak)}


def cls_command_undo(server, budget):
    c = client(server)
    worst, t0 = 0.0, time.monotonic()
    try:
        timed(c, "sandbox", {"era": "5.9", "commands": ["mmap P buf 16"]}, 60)
        done = 0
        for _ in range(200):
            if time.monotonic() - t0 > budget:
                break
            dt, _ = timed(c, "command", {"text": "gup P buf[0] as d x2048"}, budget)
            worst = max(worst, dt)
            dt, _ = timed(c, "undo", {}, budget)
            worst = max(worst, dt)
            done += 1
        return {"cycles": done, "worst_reply_s": round(worst, 3), "total_s": round(time.monotonic() - t0, 1)}
    finally:
        c.disconnect()


def cls_session_200(server, budget, lines=None):
    c = client(server)
    times, sizes, cpus, t0 = [], [], [], time.monotonic()
    lines = lines or session_lines()
    refused = 0
    try:
        _, reply = timed(c, "sandbox", {"era": "5.9"}, 60)
        rev = reply.get("rev")           # a tree with delta replies (docs/web.md "Deltas") names its replies
        for line in lines:
            if time.monotonic() - t0 > budget:
                break
            cpu = server.cpu_s()
            dt, reply = timed(c, "command", {"text": line, "rev": rev}, budget)
            cpus.append(server.cpu_s() - cpu)   # the server's CPU time for this reply (load-independent)
            refused += not reply.get("ok")
            rev = reply.get("rev") or rev
            times.append(dt)
            sizes.append(reply_size(reply))
        rss_session = server.rss()[0]
        cpu = server.cpu_s()
        era_dt, era_reply = timed(c, "era", {"eras": ["6.x"]}, budget)
        era_cpu = server.cpu_s() - cpu
        back_dt, back_reply = timed(c, "era", {"eras": ["5.9"]}, budget)     # and back: comparing two eras
        # The first switch to each other era: each replays all the commands (one sample is mostly
        # this machine's speed at that moment; the worst of five is the worst case).
        firsts = {"6.x": era_dt}
        for era in ("5.8", "5.19", "5.7", "5.9-rc"):
            firsts[era] = timed(c, "era", {"eras": [era]}, budget)[0]
        timed(c, "era", {"eras": ["5.9"]}, budget)
        undo_dt, _ = timed(c, "undo", {"rev": None}, budget)
        c2 = client(server)
        restore_dt, reply = timed(c2, "sandbox", {"era": "5.9", "commands": lines}, budget)
        c2.disconnect()
        q = statistics.quantiles(times, n=20)
        last = times[-50:]
        return {"commands": len(times), "refused": refused, "restore_dropped": len(reply.get("dropped") or []),
                "p50_reply_s": round(statistics.median(times), 3),
                "p95_reply_s": round(q[-1], 3), "worst_reply_s": round(max(times), 3),
                "p95_last50_s": round(statistics.quantiles(last, n=20)[-1], 3) if len(last) > 20 else None,
                "cpu_per_command_ms": round(1000 * sum(cpus) / max(1, len(cpus)), 1),
                "cpu_worst_command_ms": round(1000 * max(cpus, default=0), 1),
                "last_reply_kb": sizes[-1] // 1024, "total_s": round(sum(times), 1),
                "rss_at_200_mb": round(rss_session),
                "era_switch_s": round(era_dt, 3), "era_switch_cpu_ms": round(1000 * era_cpu),
                "era_switch_ok": era_reply.get("ok"),
                "era_first_switches_s": {e: round(t, 3) for e, t in firsts.items()},
                "era_first_switch_median_s": round(statistics.median(firsts.values()), 3),
                "era_back_s": round(back_dt, 3),
                "era_back_ok": back_reply.get("ok"),
                "undo_at_200_s": round(undo_dt, 3), "restore_200_s": round(restore_dt, 3)}
    finally:
        c.disconnect()


def cls_big_lines(server, budget):
    c = client(server)
    worst, biggest, refused, t0 = 0.0, 0, 0, time.monotonic()
    try:
        timed(c, "sandbox", {"era": "5.9", "commands": ["mmap P buf 1"]}, 60)
        value = "V" * (900 * 1024)
        for _ in range(40):
            if time.monotonic() - t0 > budget:
                break
            dt, reply = timed(c, "command", {"text": f"write P buf[0] {value}"}, budget)
            worst = max(worst, dt)
            biggest = max(biggest, reply_size(reply))
            refused += not reply.get("ok")
        return {"worst_reply_s": round(worst, 3), "biggest_reply_kb": biggest // 1024, "refused": refused}
    finally:
        c.disconnect()


def cls_cli_fork_chain(root, budget):
    return {"1000_steps": _fork_chain(root, budget, 1000), "499_steps": _fork_chain(root, budget, 499)}


def _fork_chain(root, budget, n):
    """An n-step fork chain (each child forks the next; nobody exits), run by the CLI under a 4 GB
    address-space cap so that a tree without the run limit cannot take the machine down."""
    lines = ["title: fork chain", "summary: a long chain", "kernel: '5.9'", "steps:", "  - do: mmap P buf 16",
             "  - do: fork P C0"]
    lines += [f"  - do: fork C{i} C{i + 1}" for i in range(n - 2)]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    python = os.path.join(HERE, ".venv", "bin", "python")
    cap = 4 << 30

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    t = time.perf_counter()
    try:
        done = subprocess.run([python, "-m", "cowviz", "run", f.name], cwd=root, capture_output=True, timeout=budget,
                              preexec_fn=limit)
        rc = done.returncode
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    except subprocess.TimeoutExpired:
        rc, err = "timeout", [""]
    finally:
        os.unlink(f.name)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024     # the largest child so far
    return {"exit": rc, "seconds": round(time.perf_counter() - t, 2), "peak_rss_mb": round(peak),
            "stderr_tail": err[0][-160:]}


def cls_sessions_memory(server, budget):
    """8 connections, each holding a 200-command sandbox: the server's RSS growth per session."""
    before = server.rss()[0]
    clients, worst, times = [], 0.0, []
    t0 = time.monotonic()
    for i in range(8):
        if time.monotonic() - t0 > budget:
            break
        c = client(server)
        lines = session_lines()
        dt, reply = timed(c, "sandbox", {"era": ["5.7", "5.8", "5.9-rc", "5.9", "6.x"][i % 5], "commands": lines}, budget)
        worst = max(worst, dt)
        times.append(round(dt, 3))
        clients.append(c)
    grown = server.rss()[0] - before
    for c in clients:
        c.disconnect()
    return {"sessions": len(clients), "worst_restore_s": round(worst, 3), "restores_s": times,
            "rss_per_session_mb": round(grown / max(1, len(clients)), 1)}


CLASSES = {"gup-restore": cls_gup_restore, "sessions-memory": cls_sessions_memory, "gup-restore-leave": cls_gup_restore_leave,
           "command-undo": cls_command_undo, "session-200": cls_session_200, "session-max": cls_session_max,
           "big-lines": cls_big_lines}


def cpu_reference_ms() -> float:
    """How long this machine takes for a fixed Python loop now (the fastest of 3): the replies above
    scale with it, and a VM's speed varies by more than half from minute to minute."""
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        x = 0
        for i in range(1_000_000):
            x += i
        best = min(best, time.perf_counter() - t)
    return round(1000 * best, 1)


def run_class(root, name, budget):
    """One class on a fresh server (so RSS numbers are that class's own)."""
    if name == "cli-fork-chain":
        return cls_cli_fork_chain(root, budget)
    server = Server(root)
    try:
        server.settle()
        before = server.rss()[0]
        result: dict = {}
        error: list = []

        def go():
            try:
                result.update(CLASSES[name](server, budget))
            except Exception as e:          # a timeout or a dropped connection is a result too
                error.append(f"{type(e).__name__}: {e}"[:160])

        th = threading.Thread(target=go, daemon=True)
        th.start()
        th.join(budget + 30)
        if th.is_alive():
            error.append(f"did not finish within {budget} s")
        rss, hwm = server.rss()
        result.update(rss_before_mb=round(before), rss_after_mb=round(rss), rss_peak_mb=round(max(hwm, result.get("rss_peak_mb", 0))),
                      rss_growth_mb=round(rss - before))
        if error:
            result["error"] = error[0]
        return result
    finally:
        server.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=HERE, help="the cowviz tree whose app.py to start (default: this one)")
    ap.add_argument("--budget", type=float, default=120, help="seconds allowed per class (default 120)")
    ap.add_argument("--only", help="comma-separated classes")
    args = ap.parse_args(argv)
    names = args.only.split(",") if args.only else [*CLASSES, "cli-fork-chain"]
    root = os.path.abspath(args.root)
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"# bench_adversarial: tree {root} at {commit}, budget {args.budget:.0f} s per class", flush=True)
    for name in names:
        t = time.monotonic()
        ref = cpu_reference_ms()
        r = run_class(root, name, args.budget)
        print(f"{name:<18} {json.dumps(r)}  ({time.monotonic() - t:.0f} s; a 1M-step Python loop took "
              f"{ref} ms before it, {cpu_reference_ms()} ms after)", flush=True)


if __name__ == "__main__":
    main()
