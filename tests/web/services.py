"""Real Redis and nginx for the multi-process tests, started as a user would start them: Debian's
`redis-server` and `nginx` binaries on free loopback ports, each with its own config file in a
temporary folder (docs/deploy.md shows the same configs).  scripts/setup.sh --tests installs both."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

from tests.web.conftest import free_port, stop_server


def need(binary: str, package: str) -> str:
    path = shutil.which(binary) or next((p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if os.path.exists(p)), None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{binary} is missing: scripts/setup.sh --tests installs the Debian package {package}")
        pytest.skip(f"needs {binary} (apt-get install {package})")
    return path


def _wait_port(port: int, proc, what: str, log: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {_read(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"{what} did not listen on port {port} within {seconds} s: {_read(log)}")
        time.sleep(0.05)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()[-3000:]
    except OSError:
        return ""


def redis_conf(port: int, folder: str) -> str:
    return (f"bind 127.0.0.1\nport {port}\nprotected-mode yes\ndaemonize no\nsave \"\"\nappendonly no\n"
            f"dir {folder}\nlogfile {folder}/redis.log\ndatabases 4\n")


def start_redis(folder: str):
    """redis-server with its own config on a free port: returns (process, redis://127.0.0.1:PORT/0)."""
    binary = need("redis-server", "redis-server")
    port = free_port()
    os.makedirs(folder, exist_ok=True)
    conf = os.path.join(folder, "redis.conf")
    with open(conf, "w") as f:
        f.write(redis_conf(port, folder))
    proc = subprocess.Popen([binary, conf], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _wait_port(port, proc, "redis-server", os.path.join(folder, "redis.log"))
    return proc, f"redis://127.0.0.1:{port}/0"


def nginx_conf(port: int, upstreams: list, folder: str) -> str:
    """Sticky by the client's whole address (`hash $remote_addr consistent`): ip_hash would send a
    lecture hall's /24 to one process.  WebSocket upgrade, no buffering, Host with its port (the
    Socket.IO server checks Origin against it).  X-Cowviz-Upstream says which process answered."""
    servers = "\n".join(f"    server {u};" for u in upstreams)
    temp = "\n".join(f"  {k}_temp_path {folder}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream cowviz {{
    hash $remote_addr consistent;
{servers}
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://cowviz;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 120s;
      add_header X-Cowviz-Upstream $upstream_addr always;
    }}
  }}
}}
"""


def start_nginx(folder: str, upstreams: list):
    """nginx in front of `upstreams` (["127.0.0.1:PORT", ...]): returns (process, http://127.0.0.1:PORT)."""
    binary = need("nginx", "nginx")
    port = free_port()
    os.makedirs(folder, exist_ok=True)
    conf = os.path.join(folder, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(port, upstreams, folder))
    log = os.path.join(folder, "nginx-error.log")
    proc = subprocess.Popen([binary, "-c", conf, "-p", folder, "-e", log], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    _wait_port(port, proc, "nginx", log)
    return proc, f"http://127.0.0.1:{port}"


stop = stop_server
