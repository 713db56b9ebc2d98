"""The few Linux system calls the lab needs, through ctypes (x86-64 numbers).

Everything returns a result or raises OSError with the kernel's errno, like
the os module.  Memory is addressed by plain integers: the lab never lets
Python touch a probed page directly, so that an access the kernel refuses
comes back as EFAULT instead of killing the process with SIGSEGV.

    mmap/munmap/mprotect/madvise      the scenario's VMAs
    pread/pwrite on a raw address     a read or write of one page (see access_*)
    vmsplice                          a FOLL_GET reference held by a pipe
    io_uring_setup/register/enter     a long-term FOLL_PIN (fixed buffers), and DMA through it
    /proc/PID/pagemap                 what each virtual page maps
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

PAGE_SIZE = 4096

# mm/mman flags (include/uapi/asm-generic/mman-common.h, x86-64)
PROT_READ = 0x1
PROT_WRITE = 0x2
MAP_SHARED = 0x01
MAP_PRIVATE = 0x02
MAP_ANONYMOUS = 0x20
MAP_FIXED_NOREPLACE = 0x100000
MADV_DONTFORK = 10
MADV_DOFORK = 11
MADV_NOHUGEPAGE = 15
MADV_WIPEONFORK = 18
MADV_POPULATE_WRITE = 23
MADV_KEEPONFORK = 19
MADVICE = {"dontfork": MADV_DONTFORK, "dofork": MADV_DOFORK,
           "wipeonfork": MADV_WIPEONFORK, "keeponfork": MADV_KEEPONFORK}

# Syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl)
SYS_tee = 276
SYS_vmsplice = 278
SYS_io_uring_setup = 425
SYS_io_uring_enter = 426
SYS_io_uring_register = 427
SYS_pidfd_open = 434
SYS_pidfd_getfd = 438

SPLICE_F_NONBLOCK = 0x02
F_SETPIPE_SZ = 1031
PR_SET_CHILD_SUBREAPER = 36

# io_uring (include/uapi/linux/io_uring.h)
IORING_REGISTER_BUFFERS = 0
IORING_UNREGISTER_BUFFERS = 1
IORING_OP_READ_FIXED = 4
IORING_OP_WRITE_FIXED = 5
IORING_ENTER_GETEVENTS = 1
IORING_FEAT_SINGLE_MMAP = 1
IORING_OFF_SQ_RING = 0
IORING_OFF_CQ_RING = 0x8000000
IORING_OFF_SQES = 0x10000000
SQE_SIZE = 64
CQE_SIZE = 16

# /proc/PID/pagemap bits (Documentation/admin-guide/mm/pagemap.rst)
PM_PFN_MASK = (1 << 55) - 1
PM_EXCLUSIVE = 1 << 56
PM_FILE = 1 << 61
PM_PRESENT = 1 << 63

MAP_FAILED = ctypes.c_void_p(-1).value

_VOIDP, _SIZE, _INT, _LONG, _ULONG = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_long, ctypes.c_ulong
_SIGNATURES = {
    "syscall": (None, _LONG),
    "mmap": ((_VOIDP, _SIZE, _INT, _INT, _INT, _LONG), _VOIDP),
    "munmap": ((_VOIDP, _SIZE), _INT),
    "mprotect": ((_VOIDP, _SIZE, _INT), _INT),
    "madvise": ((_VOIDP, _SIZE, _INT), _INT),
    "pread": ((_INT, _VOIDP, _SIZE, _LONG), ctypes.c_ssize_t),
    "pwrite": ((_INT, _VOIDP, _SIZE, _LONG), ctypes.c_ssize_t),
    "prctl": ((_INT, _ULONG, _ULONG, _ULONG, _ULONG), _INT),
}


def _load_libc():
    # Only Linux ever makes these calls, but the module is imported by the
    # command line everywhere: a libc without some of them is no error here.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except (OSError, TypeError):
        return None
    for name, (argtypes, restype) in _SIGNATURES.items():
        fn = getattr(libc, name, None)
        if fn is not None:
            if argtypes is not None:
                fn.argtypes = argtypes
            fn.restype = restype
    return libc


_libc = _load_libc()


class IoVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class SqringOffsets(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("head", "tail", "ring_mask", "ring_entries", "flags",
                                                 "dropped", "array", "resv1")] + \
               [("user_addr", ctypes.c_uint64)]


class CqringOffsets(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("head", "tail", "ring_mask", "ring_entries",
                                                 "overflow", "cqes", "flags", "resv1")] + \
               [("user_addr", ctypes.c_uint64)]


class IoUringParams(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in ("sq_entries", "cq_entries", "flags", "sq_thread_cpu",
                                                 "sq_thread_idle", "features", "wq_fd")] + \
               [("resv", ctypes.c_uint32 * 3), ("sq_off", SqringOffsets), ("cq_off", CqringOffsets)]


def _check(ret: int, what: str) -> int:
    if ret == -1 or (what == "mmap" and ret == MAP_FAILED):
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")
    return ret


def _syscall(nr: int, *args) -> int:
    return _check(_libc.syscall(ctypes.c_long(nr), *args), f"syscall {nr}")


def supported() -> tuple[bool, str]:
    """Can this interpreter make these calls at all (Linux on x86-64)?"""
    if platform.system() != "Linux":
        return False, f"the lab needs Linux (this is {platform.system() or 'an unknown system'})"
    if _libc is None:
        return False, "the C library cannot be loaded"
    if platform.machine() != "x86_64":
        return False, f"the lab's system call numbers are for x86-64 (this is {platform.machine()})"
    return True, "Linux on x86-64"


# -- memory ------------------------------------------------------------------------

def mmap_anon(addr: int, length: int, shared: bool, writable: bool) -> int:
    """Map anonymous memory exactly at addr (never over an existing mapping)."""
    prot = PROT_READ | (PROT_WRITE if writable else 0)
    flags = MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | (MAP_SHARED if shared else MAP_PRIVATE)
    got = _check(_libc.mmap(addr, length, prot, flags, -1, 0), "mmap")
    if got != addr:
        # Kernels before 4.17 take MAP_FIXED_NOREPLACE as a plain hint.
        _libc.munmap(got, length)
        raise OSError(errno.EEXIST, "mmap: the address is taken")
    return got


def munmap(addr: int, length: int) -> None:
    _check(_libc.munmap(addr, length), "munmap")


def mprotect(addr: int, length: int, writable: bool) -> None:
    _check(_libc.mprotect(addr, length, PROT_READ | (PROT_WRITE if writable else 0)), "mprotect")


def madvise(addr: int, length: int, advice: int) -> None:
    _check(_libc.madvise(addr, length, advice), "madvise")


def access_read(scratch_fd: int, addr: int) -> bytes:
    """Read the page at addr the way a load would, through pwrite(): EFAULT instead of SIGSEGV."""
    # The kernel copies from the user address with copy_from_user(), which
    # takes the same page fault (a read fault) as a load instruction would.
    _check(_libc.pwrite(scratch_fd, addr, PAGE_SIZE, 0), "read access")
    return os.pread(scratch_fd, PAGE_SIZE, 0)


def access_write(scratch_fd: int, addr: int, data: bytes) -> None:
    """Store data at addr the way a store would, through pread(): EFAULT instead of SIGSEGV."""
    # copy_to_user() takes a write fault on the page, just like a store.
    os.pwrite(scratch_fd, data, 0)
    n = _check(_libc.pread(scratch_fd, addr, len(data), 0), "write access")
    if n != len(data):
        raise OSError(errno.EFAULT, "write access: short copy")


def vmsplice_page(pipe_w: int, addr: int) -> None:
    """vmsplice() one page into a pipe: the pipe holds a FOLL_GET reference on it."""
    iov = IoVec(addr, PAGE_SIZE)
    n = _syscall(SYS_vmsplice, ctypes.c_int(pipe_w), ctypes.byref(iov), ctypes.c_ulong(1),
                 ctypes.c_uint(SPLICE_F_NONBLOCK))
    if n != PAGE_SIZE:
        raise OSError(errno.EIO, f"vmsplice: spliced {n} bytes, not a page")


def tee(pipe_in: int, pipe_out: int, length: int) -> int:
    """tee(): duplicate pipe buffers (page references, not data) into another pipe."""
    return _syscall(SYS_tee, ctypes.c_int(pipe_in), ctypes.c_int(pipe_out), ctypes.c_size_t(length),
                    ctypes.c_uint(SPLICE_F_NONBLOCK))


def set_pipe_pages(fd: int, pages: int) -> int:
    """Grow a pipe to hold `pages` buffers (as far as allowed); returns how many it holds."""
    import fcntl
    try:
        return fcntl.fcntl(fd, F_SETPIPE_SZ, pages * PAGE_SIZE) // PAGE_SIZE
    except OSError:
        return 16


def set_child_subreaper() -> None:
    """Orphaned descendants are re-parented to this process (so it can reap them)."""
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl")


# -- io_uring ------------------------------------------------------------------------

def io_uring_setup(entries: int = 4) -> tuple[int, IoUringParams]:
    p = IoUringParams()
    fd = _syscall(SYS_io_uring_setup, ctypes.c_uint(entries), ctypes.byref(p))
    return fd, p


def io_uring_register_buffer(ring_fd: int, addr: int, length: int = PAGE_SIZE) -> None:
    """IORING_REGISTER_BUFFERS of one buffer: pins it with FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM."""
    iov = IoVec(addr, length)
    _syscall(SYS_io_uring_register, ctypes.c_uint(ring_fd), ctypes.c_uint(IORING_REGISTER_BUFFERS),
             ctypes.byref(iov), ctypes.c_uint(1))


def io_uring_unregister_buffers(ring_fd: int) -> None:
    """IORING_UNREGISTER_BUFFERS: drops the pins before it returns."""
    _syscall(SYS_io_uring_register, ctypes.c_uint(ring_fd), ctypes.c_uint(IORING_UNREGISTER_BUFFERS),
             None, ctypes.c_uint(0))


def take_fd(pid: int, fd: int) -> int:
    """A duplicate of file descriptor `fd` of process `pid`, in this process (pidfd_getfd())."""
    pidfd = _syscall(SYS_pidfd_open, ctypes.c_int(pid), ctypes.c_uint(0))
    try:
        got = _syscall(SYS_pidfd_getfd, ctypes.c_int(pidfd), ctypes.c_int(fd), ctypes.c_uint(0))
    finally:
        os.close(pidfd)
    os.set_inheritable(got, False)
    return got


class Ring:
    """An io_uring instance with its rings mapped, for one request at a time.

    Made new, or from a ring another process set up: its fd (already ours)
    and the io_uring_params bytes that io_uring_setup() filled in there.
    """

    def __init__(self, entries: int = 4, fd: int | None = None, params: bytes | None = None):
        import mmap
        if fd is None:
            self.fd, p = io_uring_setup(entries)
        else:
            self.fd, p = fd, IoUringParams.from_buffer_copy(params)
        try:
            sq_size = p.sq_off.array + p.sq_entries * 4
            cq_size = p.cq_off.cqes + p.cq_entries * CQE_SIZE
            if p.features & IORING_FEAT_SINGLE_MMAP:
                sq_size = cq_size = max(sq_size, cq_size)
            self._sq = mmap.mmap(self.fd, sq_size, offset=IORING_OFF_SQ_RING)
            self._cq = self._sq if p.features & IORING_FEAT_SINGLE_MMAP else \
                mmap.mmap(self.fd, cq_size, offset=IORING_OFF_CQ_RING)
            self._sqes = mmap.mmap(self.fd, p.sq_entries * SQE_SIZE, offset=IORING_OFF_SQES)
        except BaseException:
            os.close(self.fd)
            raise
        self.p = p

    def _u32(self, buf, off: int) -> int:
        return struct.unpack_from("<I", buf, off)[0]

    def run(self, opcode: int, fd: int, addr: int, length: int, offset: int, buf_index: int = 0) -> int:
        """Submit one request and wait for its completion; returns the CQE result (negative errno)."""
        sq, cq, so, co = self._sq, self._cq, self.p.sq_off, self.p.cq_off
        tail = self._u32(sq, so.tail)
        index = tail & self._u32(sq, so.ring_mask)
        # The SQE: opcode, flags, ioprio, fd, off, addr, len, rw_flags, user_data, buf_index.
        sqe = struct.pack("<BBHiQQIIQH", opcode, 0, 0, fd, offset, addr, length, 0, 0x1ab, buf_index)
        self._sqes[index * SQE_SIZE:(index + 1) * SQE_SIZE] = sqe.ljust(SQE_SIZE, b"\0")
        struct.pack_into("<I", sq, so.array + index * 4, index)
        # io_uring_enter() is a full barrier for the kernel's view of the tail.
        struct.pack_into("<I", sq, so.tail, (tail + 1) & 0xffffffff)
        _syscall(SYS_io_uring_enter, ctypes.c_uint(self.fd), ctypes.c_uint(1), ctypes.c_uint(1),
                 ctypes.c_uint(IORING_ENTER_GETEVENTS), None, ctypes.c_size_t(0))
        head = self._u32(cq, co.head)
        if head == self._u32(cq, co.tail):
            raise OSError(errno.EIO, "io_uring: no completion")
        slot = co.cqes + (head & self._u32(cq, co.ring_mask)) * CQE_SIZE
        _user_data, res, _flags = struct.unpack_from("<QiI", cq, slot)
        struct.pack_into("<I", cq, co.head, (head + 1) & 0xffffffff)
        return res

    def close(self) -> None:
        for m in {id(x): x for x in (self._sqes, self._cq, self._sq)}.values():
            m.close()
        os.close(self.fd)


def io_uring_usable() -> tuple[bool, str]:
    """Can this process create an io_uring (kernel.io_uring_disabled, seccomp, age)?"""
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            disabled = f.read().strip()
    except OSError:
        disabled = "0"
    if disabled == "2":
        return False, "io_uring is disabled on this machine (kernel.io_uring_disabled = 2)"
    try:
        ring = Ring(2)
    except OSError as e:
        why = {errno.ENOSYS: "this kernel has no io_uring", errno.EPERM: "io_uring is not allowed "
               "for this user (kernel.io_uring_disabled = 1, or a seccomp filter)"}
        return False, why.get(e.errno, f"io_uring_setup failed: {os.strerror(e.errno)}")
    ring.close()
    return True, "io_uring works"


# -- pagemap ---------------------------------------------------------------------------

def read_pagemap(pid: int | str, addr: int, npages: int) -> list[int]:
    """The raw 64-bit pagemap entries of npages pages from addr in process pid."""
    fd = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY)
    try:
        raw = os.pread(fd, 8 * npages, (addr // PAGE_SIZE) * 8)
    finally:
        os.close(fd)
    if len(raw) != 8 * npages:
        raise OSError(errno.EIO, f"pagemap of {pid}: short read")
    return list(struct.unpack(f"<{npages}Q", raw))


def read_maps(pid: int | str) -> list[tuple[int, int]]:
    """The [start, end) ranges of every mapping of process pid."""
    out = []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            start, end = line.split(None, 1)[0].split("-")
            out.append((int(start, 16), int(end, 16)))
    return out
