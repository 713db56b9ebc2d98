"""The real machine of one probe: the processes, the pins and the pipes, driven command by command.

The controller (this module, in the caller's process) owns everything that is
not a task: the io_uring instances that play the pinning device, the pipes
that hold vmsplice()d pages, and the memfds the "device" reads and writes.
Tasks only make the calls that must run in their own address space
(mmap, accesses, io_uring_register, vmsplice, fork); the file descriptors
for those are passed in and closed again at once, so a later fork never
inherits a ring or a pipe.

    Machine.do(cmd)      -> Done(result, note) | Skip(reason)
    Machine.observe(...) -> what /proc/PID/pagemap and /proc/PID/maps show now
"""
from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from . import linux
from .agent import decode_value, encode_value, recv, send

# Where the scenario's VMAs go: far from the interpreter's heap, libraries
# and stack, each on its own 2 MiB boundary (as in the model, so that
# fault-around windows line up) with a gap between VMAs so none merge.
VMA_BASE = 0x200000000000
VMA_SLOT = 8 << 20


class LabError(Exception):
    """The probe could not go on: a process died, the time ran out, a call failed unexpectedly."""


class LabTimeout(LabError):
    """The run's time limit was reached."""


class Done(NamedTuple):
    """A command carried out for real: its result (model vocabulary) and a remark."""
    result: str
    note: str | None = None


class Skip(NamedTuple):
    """A command not carried out, and why."""
    reason: str


class Deadline:
    """The time limit of one run."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise LabTimeout(f"the probe's time limit of {self.seconds:g} s was reached")
        return left


class Channel:
    """The controller's end of one socketpair: to the keeper or to one task."""

    def __init__(self, sock: socket.socket, deadline: Deadline, who: str):
        self.sock = sock
        self.deadline = deadline
        self.who = who

    def send(self, msg: dict, fds=()) -> None:
        try:
            send(self.sock, msg, fds)
        except OSError as e:
            raise LabError(f"{self.who} is gone ({e.strerror})") from None

    def recv(self) -> dict | None:
        self.sock.settimeout(self.deadline.remaining())
        try:
            msg, fds = recv(self.sock)
        except socket.timeout:
            raise LabTimeout(f"the probe's time limit of {self.deadline.seconds:g} s was reached "
                             f"waiting for {self.who}") from None
        except OSError as e:
            raise LabError(f"{self.who} is gone ({e.strerror})") from None
        for fd in fds:
            os.close(fd)
        return msg

    def call(self, msg: dict, fds=()) -> dict:
        self.send(msg, fds)
        reply = self.recv()
        if reply is None:
            raise LabError(f"{self.who} died while doing {msg['op']}")
        if "fatal" in reply:
            raise LabError(f"{self.who} failed doing {msg['op']}: {reply['fatal']}")
        return reply

    def expect_hello(self) -> dict:
        msg = self.recv()
        if msg is None or "hello" not in msg:
            raise LabError(f"{self.who} did not start")
        return msg

    def wait_closed(self) -> None:
        """Wait until the other end is closed (the task's process or thread has ended)."""
        while True:
            msg = self.recv()
            if msg is None:
                return

    def close(self) -> None:
        self.sock.close()


@dataclass
class Space:
    """The addresses of one process's VMAs, by scenario name (kept after munmap and exec)."""
    regions: dict = field(default_factory=dict)     # name -> (addr, npages)
    pid: int = 0


@dataclass
class Task:
    name: str
    channel: Channel
    space: Space
    tid: int


class Pin(NamedTuple):
    """A page registered as a fixed buffer of an io_uring: a FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM pin."""
    ring: linux.Ring
    addr: int


@dataclass
class Pipe:
    """A pipe the controller keeps; its buffers hold FOLL_GET references on user pages."""
    r: int
    w: int
    capacity: int
    count: int = 0


@dataclass
class Holder:
    """A device holder: its references in the order taken, Pin (io_uring) or Pipe (gup)."""
    name: str
    refs: list = field(default_factory=list)
    rings: list = field(default_factory=list)       # every ring it ever had, kept open to the end

    @property
    def pins(self) -> list:
        return [r for r in self.refs if isinstance(r, Pin)]

    @property
    def pipes(self) -> list:
        return [r for r in self.refs if isinstance(r, Pipe)]


def _errname(e: OSError) -> str:
    return errno.errorcode.get(e.errno, f"errno {e.errno}")


def _reply_result(reply: dict) -> str:
    if "errno" in reply:
        return reply["error"]
    return "ok" if reply["ok"] is None else str(reply["ok"])


class Machine:
    """The processes of one probe.  Use as a context manager: leaving it kills and reaps them all."""

    def __init__(self, deadline: Deadline, io_uring: tuple[bool, str]):
        self.deadline = deadline
        self.io_uring_ok, self.io_uring_why = io_uring
        self.tasks: dict[str, Task] = {}
        self.holders: dict[str, Holder] = {}
        self.pipes: dict[str, Pipe] = {}
        self.next_slot = 0
        self.keeper = None
        self.keeper_channel = None
        self.keeper_pid = None
        self.keeper_pgid = None         # the process group every task lives in
        self.zero_pfn = None
        self.memfd = None
        self.stderr = None

    # -- start and stop ---------------------------------------------------------------

    def __enter__(self) -> "Machine":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.stderr = open(os.devnull, "wb") if not os.environ.get("COWVIZ_LAB_DEBUG") else None
        self.keeper = subprocess.Popen(
            [sys.executable, "-m", "cowviz.lab.agent", "--keeper", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], start_new_session=True, env=env, cwd=root,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr)
        # start_new_session: the keeper leads a new session and process group.
        self.keeper_pgid = self.keeper.pid
        theirs.close()
        self.keeper_channel = Channel(ours, self.deadline, "the keeper process")
        hello = self.keeper_channel.expect_hello()
        self.keeper_pid = hello["pid"]
        self.zero_pfn = hello["zero_pfn"]
        self.memfd = os.memfd_create("cowviz-lab-device", os.MFD_CLOEXEC)

    def close(self) -> None:
        """Kill every task process and reap it; close rings and pipes.  Safe to call twice."""
        for t in self.tasks.values():
            t.channel.close()
        self.tasks.clear()
        if self.keeper is not None:
            if self.keeper_channel is not None:
                # The keeper kills its process group and reaps it when told,
                # or when its socket closes.
                try:
                    self.keeper_channel.sock.settimeout(5)
                    send(self.keeper_channel.sock, {"op": "shutdown"})
                    recv(self.keeper_channel.sock)
                except OSError:
                    pass
                self.keeper_channel.close()
            try:
                self.keeper.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # Last resort: the keeper is stuck, so kill the group from here.
                try:
                    os.killpg(self.keeper.pid, 9)
                except OSError:
                    pass
                self.keeper.wait()
            self.keeper = None
        for h in self.holders.values():
            for ring in h.rings:
                ring.close()
            for p in h.pipes:
                os.close(p.r)
                os.close(p.w)
            h.refs.clear()
        self.holders.clear()
        for p in self.pipes.values():
            os.close(p.r)
            os.close(p.w)
        self.pipes.clear()
        if self.memfd is not None:
            os.close(self.memfd)
            self.memfd = None
        if self.stderr is not None:
            self.stderr.close()
            self.stderr = None

    # -- tasks ------------------------------------------------------------------------------

    def _new_channel(self, name: str) -> tuple[Channel, socket.socket]:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        return Channel(ours, self.deadline, f"task {name}"), theirs

    def _spawn(self, name: str) -> Task:
        channel, theirs = self._new_channel(name)
        try:
            reply = self.keeper_channel.call({"op": "spawn", "task": name}, [theirs.fileno()])
        finally:
            theirs.close()
        if "errno" in reply:
            raise LabError(f"could not start a process for {name}: {reply['error']}")
        hello = channel.expect_hello()
        task = Task(name, channel, Space(pid=hello["pid"]), hello["tid"])
        self.tasks[name] = task
        return task

    def live_tasks(self) -> list[str]:
        return list(self.tasks)

    def _region(self, task: Task, vma: str, index: int = 0) -> tuple[int, int] | None:
        region = task.space.regions.get(vma)
        if region is None:
            return None
        addr, npages = region
        return addr + index * linux.PAGE_SIZE, npages

    # -- the commands ----------------------------------------------------------------------

    def do(self, cmd) -> Done | Skip:
        """Carry out one scenario command on the real kernel, or say (from the command table) why not."""
        spec, a = cmd.spec, cmd.args
        why = spec.lab_skip(a)
        if why is not None:
            return Skip(why)
        if spec.kernel is None:
            return Skip("an assertion is checked against the observation, not carried out")
        # A task named for the first time (mmap) is started here; any other must exist.
        creates = spec.forms[cmd.form][0].kind == "task-or-new"
        if "task" in a._fields and not creates and a.task not in self.tasks:
            return Done("ESRCH", f"{a.task} does not exist on the real machine")
        return getattr(self, "do_" + cmd.op.replace("-", "_"))(a)

    def _call(self, task: Task, msg: dict, fds=()) -> str:
        return _reply_result(task.channel.call(msg, fds))

    def do_mmap(self, a) -> Done:
        task = self.tasks.get(a.task) or self._spawn(a.task)
        length = a.pages * linux.PAGE_SIZE
        while True:
            addr = VMA_BASE + self.next_slot * VMA_SLOT
            self.next_slot += 1
            result = self._call(task, {"op": "mmap", "addr": addr, "length": length,
                                       "shared": a.shared, "writable": a.writable})
            if result != "EEXIST" or self.next_slot > 4096:
                break
        if result == "ok":
            task.space.regions[a.vma] = (addr, a.pages)
        return Done(result)

    def _range_op(self, a, msg: dict) -> Done:
        task = self.tasks[a.task]
        region = self._region(task, a.vma)
        if region is None:
            return Done("ENOMEM", f"{a.task} never mapped {a.vma} for real")
        addr, npages = region
        return Done(self._call(task, dict(msg, addr=addr, length=npages * linux.PAGE_SIZE)))

    def do_munmap(self, a) -> Done:
        return self._range_op(a, {"op": "munmap"})

    def do_mprotect(self, a) -> Done:
        return self._range_op(a, {"op": "mprotect", "writable": a.writable})

    def do_madvise(self, a) -> Done:
        return self._range_op(a, {"op": "madvise", "advice": a.advice})

    def _page_op(self, a, msg: dict, fds=()) -> Done | None:
        task = self.tasks[a.task]
        region = self._region(task, a.vma, a.index)
        if region is None:
            return None
        return Done(self._call(task, dict(msg, addr=region[0]), fds))

    def do_read(self, a) -> Done:
        done = self._page_op(a, {"op": "read"})
        return _as_signal(done)

    def do_write(self, a) -> Done:
        done = self._page_op(a, {"op": "write", "value": a.value})
        return _as_signal(done)

    def _clone(self, a, op: str):
        """Ask the parent task to fork or start a thread; returns ((channel, hello), None) or (None, the error)."""
        parent = self.tasks[a.task]
        channel, theirs = self._new_channel(a.child)
        try:
            reply = parent.channel.call({"op": op, "child": a.child}, [theirs.fileno()])
        finally:
            theirs.close()
        if "errno" in reply:
            channel.close()
            return None, reply["error"]
        return (channel, channel.expect_hello()), None

    def do_fork(self, a) -> Done:
        made, error = self._clone(a, "fork")
        if error:
            return Done(error)
        channel, hello = made
        space = Space(dict(self.tasks[a.task].space.regions), hello["pid"])
        self.tasks[a.child] = Task(a.child, channel, space, hello["tid"])
        return Done("ok")

    def do_thread(self, a) -> Done:
        made, error = self._clone(a, "thread")
        if error:
            return Done(error)
        channel, hello = made
        self.tasks[a.child] = Task(a.child, channel, self.tasks[a.task].space, hello["tid"])
        return Done("ok")

    def do_exit(self, a) -> Done:
        task = self.tasks.pop(a.task)
        task.channel.send({"op": "exit"})
        # End of file on the task's socket comes after its exit is complete:
        # the last thread of a process closes its files after the address
        # space is gone.
        task.channel.wait_closed()
        task.channel.close()
        return Done("ok")

    def do_exec(self, a) -> Done:
        task = self.tasks[a.task]
        task.channel.send({"op": "exec"})
        reply = task.channel.recv()
        if reply is None:
            del self.tasks[a.task]
            raise LabError(f"task {a.task} died in exec")
        if "errno" in reply:
            return Done(reply["error"])
        # execve() killed the process's other threads (de_thread()); their
        # sockets closed with the old image.
        for other in [t for t in self.tasks.values() if t.space is task.space and t is not task]:
            del self.tasks[other.name]
            other.channel.close()
        # A fresh image: none of the old mappings, but the same addresses to try.
        task.space = Space(dict(task.space.regions), reply["pid"])
        return Done("ok", "the agent re-executes itself: a fresh Python image in the same process")

    # -- holders: pins, FOLL_GET references, pipes ---------------------------------------

    def _holder(self, name: str) -> Holder:
        return self.holders.setdefault(name, Holder(name))

    def do_pin(self, a) -> Done | Skip:
        if not self.io_uring_ok:
            return Skip(self.io_uring_why)
        task = self.tasks[a.task]
        region = self._region(task, a.vma, a.index)
        if region is None:
            return Done("EFAULT", f"{a.task} never mapped {a.vma} for real")
        reply = task.channel.call({"op": "pin", "addr": region[0]})
        if "errno" in reply:
            return Done(reply["error"])
        theirs = reply["ok"]["fd"]
        try:
            fd = linux.take_fd(task.space.pid, theirs)
        except OSError as e:
            # Undo the pin (synchronously) before the agent closes the ring.
            task.channel.call({"op": "unpin", "fd": theirs})
            return Skip(f"the pin was taken but the controller cannot hold the ring "
                        f"(pidfd_getfd: {_errname(e)}), so it was dropped again")
        finally:
            task.channel.call({"op": "close", "fd": theirs})
        ring = linux.Ring(fd=fd, params=bytes.fromhex(reply["ok"]["params"]))
        holder = self._holder(a.holder)
        holder.rings.append(ring)
        holder.refs.append(Pin(ring, region[0]))
        return Done("ok", None if a.longterm else "pinned long-term: io_uring has no short-term pin")

    def do_gup(self, a) -> Done | Skip:
        task = self.tasks[a.task]
        region = self._region(task, a.vma, a.index)
        if region is None:
            return Done("EFAULT", f"{a.task} never mapped {a.vma} for real")
        note = "FOLL_GET references taken by vmsplice() into a pipe the \"device\" keeps"
        if a.write:
            # FOLL_WRITE makes GUP take a write fault first where the PTE is
            # not writable (zero page, shared page); MADV_POPULATE_WRITE is
            # that same fault, without storing anything.
            result = self._call(task, {"op": "populate-write", "addr": region[0]})
            if result == "EINVAL":
                return Done("EFAULT", "MADV_POPULATE_WRITE refused the read-only VMA (EINVAL), as "
                                      "get_user_pages(FOLL_WRITE) does (EFAULT)")
            if result != "ok":
                return Done("EFAULT" if result == "ENOMEM" else result, "MADV_POPULATE_WRITE found "
                            "nothing mapped there")
            note = ("FOLL_GET|FOLL_WRITE done as MADV_POPULATE_WRITE (GUP's write fault) then "
                    "vmsplice() (the reference)")
        holder = self._holder(a.holder)
        pipe = None
        for _ in range(a.count):
            # Each command gets pipes of its own, so the holder's references
            # stay in the order they were taken.
            if pipe is None or pipe.count >= pipe.capacity:
                pipe = self._new_pipe(min(a.count, 256))
                holder.refs.append(pipe)
            result = self._call(task, {"op": "vmsplice", "addr": region[0]}, [pipe.w])
            if result != "ok":
                return Done(result)
            pipe.count += 1
        return Done("ok", note)

    def do_unpin(self, a) -> Done:
        holder = self._holder(a.holder)
        for pin in holder.pins:
            # Synchronous, unlike closing the ring, whose teardown is deferred.
            linux.io_uring_unregister_buffers(pin.ring.fd)
        for p in holder.pipes:
            _drain(p)
            os.close(p.r)
            os.close(p.w)
        holder.refs.clear()
        return Done("ok")

    def do_dma_write(self, a) -> Done | Skip:
        holder = self._holder(a.holder)
        if holder.pipes:
            return Skip("the holder's references are FOLL_GET ones held by a pipe, which cannot "
                        "write into a page")
        if not holder.rings:
            return Skip("the holder holds nothing for real")
        os.pwrite(self.memfd, encode_value(a.value).ljust(linux.PAGE_SIZE, b"\0"), 0)
        # A fixed-buffer read from a file: the kernel copies into the pinned
        # page itself, past every page table, as a device's DMA would.
        # With its buffers unregistered, the request fails with EFAULT.
        targets = holder.pins or [Pin(holder.rings[-1], 0)]
        for pin in targets:
            res = pin.ring.run(linux.IORING_OP_READ_FIXED, self.memfd, pin.addr, linux.PAGE_SIZE, 0)
            if res < 0:
                return Done(errno.errorcode.get(-res, f"errno {-res}"))
        return Done("ok", "IORING_OP_READ_FIXED from a file into the registered buffer")

    def do_dma_read(self, a) -> Done | Skip:
        holder = self._holder(a.holder)
        refs = holder.refs
        if not refs:
            if not holder.rings:
                return Skip("the holder holds nothing for real")
            # With its buffers unregistered, a fixed-buffer request fails as
            # a device would: the kernel answers EFAULT.
            refs = [Pin(holder.rings[-1], 0)]
        values = []
        for ref in refs:
            if isinstance(ref, Pipe):
                values += _peek(ref)
                continue
            res = ref.ring.run(linux.IORING_OP_WRITE_FIXED, self.memfd, ref.addr, linux.PAGE_SIZE, 0)
            if res < 0:
                return Done(errno.errorcode.get(-res, f"errno {-res}"))
            values.append(decode_value(os.pread(self.memfd, linux.PAGE_SIZE, 0)))
        how = []
        if holder.pins:
            how.append("IORING_OP_WRITE_FIXED from the registered buffer to a file")
        if holder.pipes:
            how.append("tee() of the pipe holding the references")
        return Done(",".join(values), "; ".join(how) or None)

    def _new_pipe(self, pages: int) -> Pipe:
        r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        return Pipe(r, w, linux.set_pipe_pages(w, max(pages, 16)))

    def do_vmsplice(self, a) -> Done:
        pipe = self.pipes.get(a.pipe)
        if pipe is None:
            pipe = self.pipes[a.pipe] = self._new_pipe(256)
        done = self._page_op(a, {"op": "vmsplice"}, [pipe.w])
        if done is None:
            return Done("EFAULT", f"{a.task} never mapped {a.vma} for real")
        if done.result == "ok":
            pipe.count += 1
        return done

    def do_pipe_read(self, a) -> Done:
        pipe = self.pipes.get(a.pipe)
        if pipe is None:
            return Done("EAGAIN")
        try:
            data = os.read(pipe.r, linux.PAGE_SIZE)
        except BlockingIOError:
            return Done("EAGAIN")
        pipe.count -= 1
        return Done(decode_value(data))

    # -- observation -----------------------------------------------------------------------

    def observe(self, groups) -> dict:
        """Pagemap entries and VMA presence for `groups`: [(label, task, [(vma, npages)])].

        Returns {(label, vma): None | [raw pagemap entries]}: None when no VMA
        covers the range now.
        """
        out = {}
        for label, task_name, vmas in groups:
            task = self.tasks.get(task_name)
            if task is None:
                continue
            pid = task.space.pid
            try:
                maps = linux.read_maps(pid)
            except OSError as e:
                raise LabError(f"cannot read /proc/{pid}/maps of task {task_name}: {e.strerror}") from None
            for vma, npages in vmas:
                region = task.space.regions.get(vma)
                if region is None or region[1] != npages:
                    out[(label, vma)] = None
                    continue
                addr = region[0]
                end = addr + npages * linux.PAGE_SIZE
                if not any(s <= addr and end <= e for s, e in maps):
                    out[(label, vma)] = None
                    continue
                try:
                    out[(label, vma)] = linux.read_pagemap(pid, addr, npages)
                except OSError as e:
                    raise LabError(f"cannot read /proc/{pid}/pagemap of task {task_name}: "
                                   f"{e.strerror}") from None
        return out


def _as_signal(done: Done | None) -> Done:
    """An access the kernel refused: a CPU access would get SIGSEGV where the copy got EFAULT."""
    if done is None:
        return Done("SIGSEGV", "the task never mapped this VMA for real")
    if done.result == "EFAULT":
        return Done("SIGSEGV", "the kernel refused the access (EFAULT from its user copy; a CPU "
                               "access gets SIGSEGV)")
    return done


def _drain(p: Pipe) -> None:
    p.count = 0
    while True:
        try:
            if not os.read(p.r, 1 << 16):
                return
        except BlockingIOError:
            return


def _peek(p: Pipe) -> list[str]:
    """The values of the pages a pipe holds, without taking them out (tee() into a scratch pipe)."""
    if p.count == 0:
        return []
    r, w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        linux.set_pipe_pages(w, p.count)
        n = linux.tee(p.r, w, p.count * linux.PAGE_SIZE)
        data = b""
        while len(data) < n:
            data += os.read(r, n - len(data))
    finally:
        os.close(r)
        os.close(w)
    return [decode_value(data[i:i + linux.PAGE_SIZE]) for i in range(0, len(data), linux.PAGE_SIZE)]
