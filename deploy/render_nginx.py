"""The proxy in front of several replicas of the app: nginx's configuration, written
from the list of replicas. `deploy/nginx.conf` (what compose.yaml mounts) is this
script's output for the compose services; the tests render the same text for replicas
on 127.0.0.1 and run it, so the file a deployment uses is the file that was tested.

    python -m deploy.render_nginx --replica a=app-a:8501 --replica b=app-b:8502 \\
        --listen 80 > deploy/nginx.conf

Why it is written as it is:
- A Streamlit page is one WebSocket (`/_stcore/stream`) held open for the whole visit:
  the proxy passes the Upgrade/Connection headers and keeps an idle socket for an hour.
- A session lives in one replica's memory, so a browser is kept on one replica. nginx
  (the free version) has no sticky cookie of its own: the proxy sets the cookie
  `drd_replica` itself, to the replica that served the response. A browser without it
  is sent to a replica chosen at random (`split_clients`), evenly.
- Each replica has its own upstream group, the other replicas as `backup`: a replica
  that is down (connection refused, a timeout) is marked failed (`max_fails`) and its
  browsers go on to another (`proxy_next_upstream`); the cookie then names the one
  that answered, so they stay there. nginx knows that one by its resolved address
  (`$upstream_addr`, an IP), so the replicas listen on different ports and the port
  names the replica.
- nginx's free version checks upstreams only passively (a failed request). The active
  check is the app's `/ready` (503 until its warm-up is done, 200 after), which the
  container's HEALTHCHECK and compose's `healthcheck` poll; the proxy starts once
  the replicas are healthy. The proxy adds `X-Served-By` (the replica's name) to each
  response, which is how an operator (and the tests) see where a browser is.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

COOKIE = "drd_replica"
NAME = re.compile(r"^[a-z0-9_]{1,32}$")
ADDRESS = re.compile(r"^[A-Za-z0-9.\-]{1,253}:[0-9]{1,5}$")
# Compose's services (deploy/compose.yaml): what deploy/nginx.conf is written for.
COMPOSE_REPLICAS = {"a": "app-a:8501", "b": "app-b:8502"}
COMPOSE_LISTEN = "80"

RUNTIME = """\
daemon off;
pid nginx.pid;
error_log logs/error.log warn;
"""
RUNTIME_HTTP = """\
    access_log logs/access.log;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
"""


def _upstreams(replicas: dict[str, str]) -> str:
    """One group per replica: that replica first, every other one as its backup."""
    groups = []
    for name, address in replicas.items():
        lines = [f"    upstream replica_{name} {{"]
        lines.append(f"        server {address} max_fails=1 fail_timeout=10s;")
        for other, backup in replicas.items():
            if other != name:
                lines.append(f"        server {backup} backup;")
        groups.append("\n".join(lines + ["    }"]))
    return "\n".join(groups)


def _choice(replicas: dict[str, str]) -> str:
    """An even random split of the browsers that come without the cookie."""
    names = list(replicas)
    share = f"{100 / len(names):.2f}".rstrip("0").rstrip(".")
    lines = [f"        {share}% {name};" for name in names[:-1]] + [f"        * {names[-1]};"]
    return "\n".join(lines)


def render(replicas: dict[str, str], listen: str, runtime: bool = False) -> str:
    """nginx.conf for `replicas` ({name: host:port}) behind `listen` (a port or
    address:port). `runtime`: run as a plain foreground process whose pid, logs and
    temporary files are under its prefix (`nginx -p <folder>`), as the tests do."""
    if not replicas:
        raise ValueError("at least one replica is needed")
    for name, address in replicas.items():
        if not NAME.match(name) or not ADDRESS.match(address):
            raise ValueError(f"a replica is name=host:port (lower-case name): {name}={address}")
    ports = [address.rsplit(":", 1)[1] for address in replicas.values()]
    if len(set(ports)) < len(ports):
        raise ValueError("each replica needs a port of its own (the port names the replica)")
    pinned = "\n".join(f"        {name} {name};" for name in replicas)
    served = "\n".join(
        f"        ~:{port}$ {name};" for name, port in zip(replicas, ports, strict=True)
    )
    return f"""\
# The proxy in front of the app's replicas. Written by deploy/render_nginx.py (its
# docstring says why each part is there); to change the replicas, run it again.
{RUNTIME if runtime else ""}worker_processes 1;
events {{
    worker_connections 4096;
}}
http {{
{RUNTIME_HTTP if runtime else ""}    # A page's WebSocket: pass its upgrade on.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        '' close;
    }}
    # The replica this browser was kept on, else one chosen at random.
    map $cookie_{COOKIE} $replica {{
{pinned}
        default $new_replica;
    }}
    split_clients "$request_id" $new_replica {{
{_choice(replicas)}
    }}
    # The replica that answered (the port of the last address tried), for the cookie.
    map $upstream_addr $served_by {{
{served}
        default $replica;
    }}
{_upstreams(replicas)}
    server {{
        listen {listen};
        proxy_http_version 1.1;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_next_upstream error timeout;
        proxy_connect_timeout 5s;
        client_max_body_size 128m;  # .streamlit/config.toml's server.maxUploadSize
        add_header Set-Cookie "{COOKIE}=$served_by; Path=/; HttpOnly; SameSite=Lax" always;
        add_header X-Served-By $served_by always;

        location / {{
            proxy_pass http://replica_$replica;
        }}
        location /_stcore/stream {{
            proxy_pass http://replica_$replica;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
            proxy_buffering off;
        }}
    }}
}}
"""


def write_runtime(folder: Path, replicas: dict[str, str], listen: str) -> Path:
    """Lay out `folder` as the prefix of a foreground nginx (its logs and temporary
    files) and write its nginx.conf there; run it with `nginx -p folder -c <that file>`."""
    for sub in ("logs", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(render(replicas, listen, runtime=True), encoding="utf-8")
    return conf


def parse_replica(text: str) -> tuple[str, str]:
    name, sep, address = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"a replica is name=host:port: {text}")
    return name, address


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--replica", action="append", type=parse_replica, help="name=host:port (repeat it)"
    )
    parser.add_argument("--listen", default=COMPOSE_LISTEN, help="port or address:port")
    parser.add_argument(
        "--runtime", action="store_true", help="a foreground process under its -p prefix"
    )
    args = parser.parse_args()
    replicas = dict(args.replica) if args.replica else COMPOSE_REPLICAS
    try:
        print(render(replicas, args.listen, args.runtime), end="")
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
