"""Command line: serve a simulated cluster until SIGTERM or SIGINT.

    python -m tests.simcluster --kubeconfig PATH [--load FILE.yaml ...] [--rollout-delay SECONDS] [--port N]

Prints ``ready https://127.0.0.1:PORT`` once it serves.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from .cluster import Settings, SimCluster
from .errors import ApiError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.simcluster", description="Serve a simulated Kubernetes cluster over HTTPS.")
    parser.add_argument("--kubeconfig", required=True, help="where to write the kubeconfig for clients (context 'simcluster')")
    parser.add_argument("--load", action="append", default=[], metavar="FILE",
                        help="YAML/JSON file of objects to store at start (multi-document or kind: List; Pods are "
                             "created through admission, so the webhooks inject them); repeatable")
    parser.add_argument("--rollout-delay", type=float, default=0.0, metavar="SECONDS",
                        help="seconds before a new pod becomes Ready (default 0)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: chosen by the OS)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the cluster, write the kubeconfig, print the ready line, serve until a signal; return the exit code."""
    args = parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cluster = SimCluster(Settings(rollout_delay=args.rollout_delay))
    try:
        cluster.start(port=args.port)
    except OSError as exc:
        sys.stderr.write(f"simcluster: cannot listen on 127.0.0.1:{args.port}: {exc}; choose another --port or omit it\n")
        return 2
    try:
        for path in args.load:
            try:
                count = cluster.load(path, admit_pods=True)
            except (OSError, ValueError, ApiError) as exc:
                sys.stderr.write(f"simcluster: cannot load {path}: {exc}\n")
                return 2
            sys.stderr.write(f"simcluster: loaded {count} objects from {path}\n")
        cluster.write_kubeconfig(args.kubeconfig)
        sys.stdout.write(f"ready {cluster.url}\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
