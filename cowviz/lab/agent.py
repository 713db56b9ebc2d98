"""The processes a probe runs: one keeper, and agents that are the scenario's tasks.

    controller (the caller: CLI, web server, test)
        │  one socketpair per task (AF_UNIX, SOCK_SEQPACKET): a JSON message per
        │  packet, file descriptors passed along with SCM_RIGHTS
        ▼
    keeper     python -m cowviz.lab.agent --keeper FD; a session of its own,
      │        child subreaper, bound to one CPU
      ├── agent P      forked by the keeper when `mmap` names a new task
      │     ├── T      a real thread of P's process (`thread P T`)
      │     └── C      os.fork() of P's process (`fork P C`): inherits P's memory
      └── ...          orphaned agents are re-parented to the keeper, which reaps them

Messages (controller -> agent; every request gets one reply unless noted):

    {"op": "mmap", "addr", "length", "shared", "writable"}      {"op": "munmap", "addr", "length"}
    {"op": "mprotect", "addr", "length", "writable"}            {"op": "madvise", "addr", "length", "advice"}
    {"op": "read", "addr"} -> {"ok": value}                     {"op": "write", "addr", "value"}
    {"op": "populate-write", "addr"}                           MADV_POPULATE_WRITE of one page
    {"op": "vmsplice", "addr"} + pipe fd                        {"op": "pin", "addr"} -> {"ok": {"fd", "params"}}
    {"op": "unpin", "fd"}, {"op": "close", "fd"}: the agent's copy of a ring the controller has taken over
    {"op": "fork", "child"} + socket fd -> {"ok": pid}          {"op": "thread", "child"} + socket fd
    {"op": "exit"}, {"op": "exec"}: no reply (the socket closes, or the new image says hello)
    replies: {"ok": value}, {"errno": n, "error": "EFAULT"}, or {"fatal": text} when the agent failed
    a new task says {"hello": name, "pid", "tid"} on its own socket first

Keeper: says {"hello": "keeper", "pid", "zero_pfn"}, then serves {"op": "spawn", "task"} + socket
fd -> {"ok": pid} and {"op": "shutdown"}; it kills its whole process group when the
controller goes away.

A page holds a scenario value as its UTF-8 bytes followed by a NUL; a page whose
first byte is NUL (a new page, the zero page) holds "0", as in the model.
"""
from __future__ import annotations

import array
import errno
import json
import os
import signal
import socket
import sys
import threading
import time

from ..limits import value_problem
from . import linux

MAX_MESSAGE = 1 << 16


def encode_value(value: str) -> bytes:
    """The bytes a write of `value` stores at the start of the page.  ValueError (the model's
    message, cowviz.limits.value_problem) for a value the model would refuse: never past the page."""
    problem = value_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value.encode() + b"\0"


def decode_value(page: bytes) -> str:
    """The scenario value a page holds."""
    head = page.split(b"\0", 1)[0]
    return head.decode(errors="replace") if head else "0"


# -- messages ----------------------------------------------------------------------

def send(sock: socket.socket, msg: dict, fds=()) -> None:
    data = json.dumps(msg).encode()
    if fds:
        sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        sock.send(data)


def recv(sock: socket.socket) -> tuple[dict | None, list[int]]:
    """One message and the descriptors that came with it; (None, []) at end of file."""
    fds = array.array("i")
    data, anc, _flags, _addr = sock.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(4 * fds.itemsize),
                                            socket.MSG_CMSG_CLOEXEC)
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    return json.loads(data), list(fds)


def _error(e: OSError) -> dict:
    return {"errno": e.errno, "error": errno.errorcode.get(e.errno, str(e.errno))}


# -- an agent: the tasks of one process ---------------------------------------------

class _NewTask(Exception):
    """Raised in a fork child: this thread now serves the child task on another socket."""

    def __init__(self, name: str, sock: socket.socket):
        super().__init__(name)
        self.name = name
        self.sock = sock


class Agent:
    """One process of the probe; each of its tasks is a thread serving its own socket."""

    def __init__(self):
        self.scratch = os.memfd_create("cowviz-lab", os.MFD_CLOEXEC)
        self.lock = threading.Lock()
        self.tasks: dict[str, socket.socket] = {}

    def start(self, name: str, sock: socket.socket) -> None:
        """Serve task `name` in the calling thread until it exits."""
        with self.lock:
            self.tasks[name] = sock
        self.serve(name, sock)

    def serve(self, name: str, sock: socket.socket) -> None:
        send(sock, {"hello": name, "pid": os.getpid(), "tid": threading.get_native_id()})
        while True:
            try:
                msg, fds = recv(sock)
            except OSError:
                msg, fds = None, []
            if msg is None:
                # The controller dropped this task: it ends as if it had exited.
                self.exit(name, sock)
                return
            try:
                reply = self.handle(name, sock, msg, fds)
            except _NewTask as new:
                name, sock = new.name, new.sock
                send(sock, {"hello": name, "pid": os.getpid(), "tid": threading.get_native_id()})
                continue
            except OSError as e:
                reply = _error(e)
            except Exception as e:          # a bug here, not a kernel answer
                reply = {"fatal": f"{type(e).__name__}: {e}"}
            finally:
                for fd in fds:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            if reply is _GONE:
                return
            send(sock, reply)

    def handle(self, name: str, sock: socket.socket, msg: dict, fds: list[int]):
        op = msg["op"]
        addr = msg.get("addr")
        if op == "mmap":
            linux.mmap_anon(addr, msg["length"], msg["shared"], msg["writable"])
            # Transparent huge pages would put many pages behind one frame
            # and let khugepaged move them; the model has 4 KiB pages only.
            linux.madvise(addr, msg["length"], linux.MADV_NOHUGEPAGE)
            return {"ok": None}
        if op == "munmap":
            linux.munmap(addr, msg["length"])
            return {"ok": None}
        if op == "mprotect":
            linux.mprotect(addr, msg["length"], msg["writable"])
            return {"ok": None}
        if op == "madvise":
            linux.madvise(addr, msg["length"], linux.MADVICE[msg["advice"]])
            return {"ok": None}
        if op == "read":
            return {"ok": decode_value(linux.access_read(self.scratch, addr))}
        if op == "write":
            linux.access_write(self.scratch, addr, encode_value(msg["value"]))
            return {"ok": None}
        if op == "populate-write":
            linux.madvise(addr, linux.PAGE_SIZE, linux.MADV_POPULATE_WRITE)
            return {"ok": None}
        if op == "vmsplice":
            linux.vmsplice_page(fds[0], addr)
            return {"ok": None}
        if op == "pin":
            # io_uring_register() pins pages of the calling process's mm, so
            # the ring is set up here; the controller then takes it over with
            # pidfd_getfd() (an io_uring fd cannot be sent over a socket) and
            # has this copy closed.
            fd, params = linux.io_uring_setup(2)
            try:
                linux.io_uring_register_buffer(fd, addr)
            except OSError:
                os.close(fd)
                raise
            return {"ok": {"fd": fd, "params": bytes(params).hex()}}
        if op == "unpin":
            linux.io_uring_unregister_buffers(msg["fd"])
            return {"ok": None}
        if op == "close":
            os.close(msg["fd"])
            return {"ok": None}
        if op == "fork":
            return self.fork(msg["child"], fds)
        if op == "thread":
            child = socket.socket(fileno=os.dup(fds[0]))
            os.set_inheritable(child.fileno(), False)
            with self.lock:
                self.tasks[msg["child"]] = child
            threading.Thread(target=self.serve, args=(msg["child"], child), daemon=True).start()
            return {"ok": None}
        if op == "exit":
            return self.exit(name, sock)
        if op == "exec":
            return self.exec(name, sock)
        raise OSError(errno.EINVAL, f"unknown op {op}")

    def fork(self, child_name: str, fds: list[int]):
        child_fd = os.dup(fds[0])
        pid = os.fork()
        if pid == 0:
            # Only the forking thread lives on in the child.  Drop every
            # channel it inherited; it serves the child task from now on,
            # with a scratch file of its own.
            with self.lock:
                for s in self.tasks.values():
                    s.close()
                sock = socket.socket(fileno=child_fd)
                self.tasks = {child_name: sock}
            os.close(self.scratch)
            self.scratch = os.memfd_create("cowviz-lab", os.MFD_CLOEXEC)
            for fd in fds:
                os.close(fd)
            fds.clear()
            raise _NewTask(child_name, sock)
        os.close(child_fd)
        return {"ok": pid}

    def exit(self, name: str, sock: socket.socket):
        with self.lock:
            self.tasks.pop(name, None)
            last = not self.tasks
        if last:
            # exit_group(): the address space is torn down before the
            # socket closes, so the controller's end of file means "gone".
            os._exit(0)
        sock.close()
        if threading.current_thread() is threading.main_thread():
            # MODEL: the main thread of a process that has other threads
            # left does not really exit (Python cannot end it alone); it
            # waits here doing nothing.  Memory-wise a thread's exit only
            # drops a user of the shared mm, which pagemap cannot show.
            threading.Event().wait()
        return _GONE

    def exec(self, name: str, sock: socket.socket):
        # execve() kills the other threads and gives the process a fresh
        # image; only this task's socket survives it.
        fd = sock.fileno()
        os.set_inheritable(fd, True)
        try:
            os.execv(sys.executable, [sys.executable, "-m", "cowviz.lab.agent", "--task", name,
                                      "--fd", str(fd)])
        finally:
            os.set_inheritable(fd, False)


_GONE = object()


def agent_process_setup() -> None:
    """Signal dispositions for an agent: children reap themselves, the rest as default."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


# -- the keeper -----------------------------------------------------------------------

def learn_zero_pfn() -> int | None:
    """The shared zero page's frame number, from a private page only ever read; None if hidden."""
    addr = None
    scratch = os.memfd_create("cowviz-lab-zero", os.MFD_CLOEXEC)
    try:
        for slot in range(64):
            try:
                addr = linux.mmap_anon(0x1f0000000000 + slot * 0x200000, linux.PAGE_SIZE, False, True)
                break
            except OSError:
                continue
        if addr is None:
            return None
        linux.madvise(addr, linux.PAGE_SIZE, linux.MADV_NOHUGEPAGE)
        linux.access_read(scratch, addr)
        entry = linux.read_pagemap("self", addr, 1)[0]
        pfn = entry & linux.PM_PFN_MASK
        return pfn if entry & linux.PM_PRESENT and pfn else None
    finally:
        if addr is not None:
            linux.munmap(addr, linux.PAGE_SIZE)
        os.close(scratch)


def _reap() -> int:
    """Reap every child that has exited; returns how many children are left (-1: none at all)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return -1
        if pid == 0:
            return 1


def _group_members(pgid: int) -> list[int]:
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces; the fields after it do not.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry))
    return out


def kill_group(limit: float = 5.0) -> None:
    """SIGKILL every other process of the keeper's process group and reap them all."""
    pgid = os.getpgid(0)
    end = time.monotonic() + limit
    while True:
        members = _group_members(pgid)
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        left = _reap()
        if (not members and left == -1) or time.monotonic() > end:
            return
        time.sleep(0.005)


def keeper_main(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)
    linux.set_child_subreaper()
    try:
        # A precaution: every task runs on one CPU.  A new page sits in a
        # per-CPU LRU batch, holding a reference, until that CPU drains it,
        # and do_wp_page() drains only its own CPU's batch; a task that moved
        # to another CPU could see a count of 2 where the model counts 1 and
        # get a copy where the model reuses.  (Not seen in practice: the
        # interpreter's own faults fill and drain the batch quickly.)
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except OSError:
        pass
    signal.signal(signal.SIGCHLD, lambda *_: _reap())
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    send(sock, {"hello": "keeper", "pid": os.getpid(), "zero_pfn": learn_zero_pfn()})
    try:
        while True:
            try:
                msg, fds = recv(sock)
            except OSError:
                msg, fds = None, []
            if msg is None or msg["op"] == "shutdown":
                break
            if msg["op"] != "spawn":
                send(sock, {"errno": errno.EINVAL, "error": "EINVAL"})
                continue
            try:
                pid = os.fork()
            except OSError as e:
                send(sock, _error(e))
                continue
            if pid == 0:
                try:
                    sock.close()
                    agent_process_setup()
                    Agent().start(msg["task"], socket.socket(fileno=fds[0]))
                finally:
                    os._exit(0)
            for f in fds:
                os.close(f)
            send(sock, {"ok": pid})
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        kill_group()
        try:
            send(sock, {"ok": "shutdown"})
        except OSError:
            pass
        os._exit(0)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--keeper"]:
        keeper_main(int(argv[1]))
    elif argv[:1] == ["--task"] and argv[2:3] == ["--fd"]:
        # A task that has just exec'd: a fresh image, the same process.
        agent_process_setup()
        fd = int(argv[3])
        os.set_inheritable(fd, False)
        Agent().start(argv[1], socket.socket(fileno=fd))
        os._exit(0)
    else:
        sys.exit("usage: python -m cowviz.lab.agent --keeper FD | --task NAME --fd FD")


if __name__ == "__main__":
    main(sys.argv[1:])
