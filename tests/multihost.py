"""Hosts made on this machine, for the tests of the cluster path.

Each host is a network namespace of its own (an address on a private subnet, its own
loopback) with its own host name (a UTS namespace) and shared memory (an IPC namespace),
so MPI treats the hosts as separate machines and their ranks talk over TCP. The hosts
are joined by a bridge in one more namespace, so their traffic never reaches this
machine's own interfaces. The file system stays shared, as on a cluster with a shared
home directory.

MPI's launcher (hydra) starts its proxy on each host as it does on a cluster, through
`ssh HOST COMMAND`; here the program it runs for ssh (HYDRA_LAUNCHER_EXEC) is a script
that runs COMMAND in HOST's namespaces. The project's scripts run unchanged, with a host
file, exactly as the README gives them.
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
import time
from pathlib import Path

from conftest import ROOT, script_env

_count = itertools.count()


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=60)


class Cluster:
    """`n` hosts, h1..hn, at 10.X.Y.11.. on a subnet of their own; `launcher` is the
    script that stands in for ssh, `hostfile(slots)` an MPICH host file."""

    def __init__(self, n: int, folder: Path):
        k = next(_count)
        self.tag = f"wm{os.getpid() % 100000}x{k}"
        self.subnet = f"10.{200 + os.getpid() % 50}.{k % 250}"
        self.names = [f"h{i + 1}" for i in range(n)]
        self.addresses = [f"{self.subnet}.{11 + i}" for i in range(n)]
        self.folder = folder
        self.launcher = folder / "launcher"
        self.made: list[str] = []
        self.overlays: dict[str, dict[Path, Path]] = {}

    def ns(self, host: str) -> str:
        return f"{self.tag}-{host}"

    def __enter__(self) -> Cluster:
        try:
            self._make()
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            self.down()
            stderr = getattr(e, "stderr", "") or str(e)
            raise AssertionError(
                f"cannot make hosts with network namespaces on this machine (the multi-host "
                f"tests need root and `ip netns`): {stderr.strip()}"
            ) from None
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    def _make(self) -> None:
        switch = self.ns("sw")
        sh("ip", "netns", "add", switch)
        self.made.append(switch)
        sh("ip", "netns", "exec", switch, "ip", "link", "add", "br0", "type", "bridge")
        sh("ip", "netns", "exec", switch, "ip", "link", "set", "br0", "up")
        for host, address in zip(self.names, self.addresses, strict=True):
            ns = self.ns(host)
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            sh("ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", host)
            sh("ip", "-n", ns, "link", "set", host, "netns", switch)
            sh("ip", "-n", switch, "link", "set", host, "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        self._wait_for_links()
        self._write_launcher()

    def _wait_for_links(self, seconds: float = 20.0) -> None:
        """Every host's link up and carrying (a veth takes a moment): before that, MPI
        sees no network interface on a host but its loopback, and its ranks cannot reach
        the others."""
        deadline = time.time() + seconds
        for host in self.names:
            while True:
                links = [
                    sh("ip", "-n", self.ns(host), "-o", "link", "show", "eth0").stdout,
                    sh("ip", "-n", self.ns("sw"), "-o", "link", "show", host).stdout,
                ]
                if all("LOWER_UP" in link and "state UP" in link for link in links):
                    break
                if time.time() > deadline:
                    raise subprocess.CalledProcessError(1, "ip link", stderr=f"{host}: {links}")
                time.sleep(0.05)

    def _write_launcher(self) -> None:
        # the hosts know each other by name, as through a cluster's DNS
        names = self.folder / "etc_hosts"
        lines = [f"{a} {h}" for h, a in zip(self.names, self.addresses, strict=True)]
        names.write_text(Path("/etc/hosts").read_text() + "\n".join(lines) + "\n")
        cases = []
        for host, address in zip(self.names, self.addresses, strict=True):
            overlays = {Path("/etc/hosts"): names, **self.overlays.get(host, {})}
            binds = " ".join(
                f"mount --bind {shlex.quote(str(src))} {shlex.quote(str(dst))};"
                + (f" mount -o remount,bind,ro {shlex.quote(str(dst))};" if src == dst else "")
                for dst, src in overlays.items()
            )
            cases.append(
                f"  {host}|{address}) ns={self.ns(host)} name={host} binds={shlex.quote(binds)} ;;"
            )
        self.launcher.write_text(
            "#!/bin/bash\n"
            "# ssh [options] HOST COMMAND: COMMAND in HOST's namespaces, from this folder\n"
            'while [[ $1 == -* ]]; do shift; done\nhost=$1; shift\ncase "$host" in\n'
            + "\n".join(cases)
            + "\n"
            '  *) echo "ssh: Could not resolve hostname $host" >&2; exit 255 ;;\nesac\n'
            'exec ip netns exec "$ns" unshare --uts --ipc --mount bash -c '
            '"hostname $name; $binds cd $(printf %q "$PWD"); $*"\n'
        )
        self.launcher.chmod(0o755)

    def overlay(self, host: str, path: Path, replacement: Path) -> None:
        """From now on `host` sees `replacement` at `path`, the others the shared file: as
        a cluster without a shared file system whose copies differ."""
        self.overlays.setdefault(host, {})[path] = replacement
        self._write_launcher()

    def kill(self, host: str) -> None:
        """Every process on `host` killed, as when a machine goes down."""
        pids = sh("ip", "netns", "pids", self.ns(host), check=False).stdout.split()
        if pids:
            sh("kill", "-9", *pids, check=False)

    def read_only(self, host: str, path: Path) -> None:
        """From now on `host` sees the folder `path` read-only, the others as it is."""
        self.overlay(host, path, path)

    def down(self) -> None:
        """Every process in the hosts killed, the namespaces (and their links) removed."""
        for ns in reversed(self.made):
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            if pids:
                sh("kill", "-9", *pids, check=False)
            sh("ip", "netns", "del", ns, check=False)
        self.made = []

    def cut(self, host: str) -> None:
        """`host`'s link down: its processes live on, but nothing reaches them."""
        sh("ip", "-n", self.ns("sw"), "link", "set", host, "down")

    def hostfile(self, slots: int, hosts: list[str] | None = None, name: str = "hosts") -> Path:
        """An MPICH host file, `address:slots` a line, of `hosts` (default: all)."""
        picked = hosts or self.names
        path = self.folder / name
        lines = [f"{self.addresses[self.names.index(h)]}:{slots}" for h in picked]
        path.write_text("\n".join(lines) + "\n")
        return path

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a command run on a host: ssh is the launcher script."""
        return script_env(HYDRA_LAUNCHER="ssh", HYDRA_LAUNCHER_EXEC=str(self.launcher), **extra)

    def run(
        self, host: str, command: str, timeout: float = 300, check: bool = True, **extra: str
    ) -> subprocess.CompletedProcess:
        """`bash -c COMMAND` on `host`, from the repository root, as a user logged in there."""
        proc = subprocess.run(
            [str(self.launcher), host, f"bash -c {shlex.quote(command)}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(**extra),
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"on {host}: {command} failed ({proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return proc
