"""Command line: build if needed, start the real cluster, optionally install Istio and the sample mesh, serve
until SIGTERM or SIGINT.

    python -m tests.realcluster --kubeconfig PATH [--istio VERSION] [--mesh] [--rollout-delay SECONDS] [--state-dir DIR]
    python -m tests.realcluster --build-only
    python -m tests.realcluster --render-istiod VERSION   # the release's istiod chart for its revision, as YAML
    python -m tests.realcluster --charts-dir VERSION      # where Istio's charts of that release are

Prints ``ready https://127.0.0.1:PORT`` once it serves (after the installs), as ``python -m tests.simcluster`` does.
"""
from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
import time

from . import build
from .cluster import RealCluster


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.realcluster",
                                     description="Run a local real Kubernetes cluster with istiod (see tests/realcluster/README.md).")
    parser.add_argument("--kubeconfig", help="where to write the kubeconfig for clients (context 'realcluster')")
    parser.add_argument("--state-dir", help="directory for the cluster's files and logs (default: a new temporary one)")
    parser.add_argument("--istio", choices=sorted(build.RELEASES), help="install this Istio release with its charts")
    parser.add_argument("--mesh", action="store_true", help="with --istio: load the sample mesh of 'make demo'")
    parser.add_argument("--rollout-delay", type=float, default=0.0, metavar="SECONDS", help="seconds before a new pod becomes Ready")
    parser.add_argument("--build-only", action="store_true", help="build (or check) the programs, print their build times and exit")
    parser.add_argument("--render-istiod", choices=sorted(build.RELEASES), metavar="VERSION",
                        help="print the istiod chart of this release rendered for its revision (the manifest installer's input) and exit")
    parser.add_argument("--charts-dir", choices=sorted(build.RELEASES), metavar="VERSION",
                        help="print the folder of Istio's charts (manifests/charts) of this release and exit")
    args = parser.parse_args(argv)
    if not (args.build_only or args.render_istiod or args.charts_dir or args.kubeconfig):
        parser.error("--kubeconfig is required (unless --build-only)")
    if args.mesh and not args.istio:
        parser.error("--mesh needs --istio VERSION")
    return args


def main(argv: list[str] | None = None) -> int:
    """Start, install, print the ready line, serve until a signal; return the exit code."""
    args = parse_args(argv)
    if args.charts_dir:
        try:
            sys.stdout.write(build.charts_dir(args.charts_dir) + "\n")
        except build.RealClusterUnavailable as exc:
            sys.stderr.write(f"realcluster: {exc}\n")
            return 2
        return 0
    if args.render_istiod:
        try:
            with tempfile.TemporaryDirectory(prefix="realcluster-render-") as scratch:
                sys.stdout.write(RealCluster(scratch).render_istiod(args.render_istiod))
        except (build.RealClusterUnavailable, RuntimeError) as exc:
            sys.stderr.write(f"realcluster: {exc}\n")
            return 2
        return 0
    if args.build_only:
        try:
            build.ensure_built()
        except build.RealClusterUnavailable as exc:
            sys.stderr.write(f"realcluster: {exc}\n")
            return 2
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    cluster = RealCluster(args.state_dir, rollout_delay=args.rollout_delay)
    started = time.monotonic()
    try:
        cluster.start()
        if args.istio:
            if args.mesh:
                cluster.load_sample_mesh(args.istio)
            else:
                cluster.install_istio(args.istio)
        import shutil  # pylint: disable=import-outside-toplevel
        if args.kubeconfig != cluster.kubeconfig:
            shutil.copyfile(cluster.kubeconfig, args.kubeconfig)
        sys.stderr.write(f"realcluster: ready after {time.monotonic() - started:.1f} s; state and logs in {cluster.state_dir}\n")
        sys.stdout.write(f"ready {cluster.url}\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            if cluster.process is None or cluster.process.poll() is not None:
                sys.stderr.write(f"realcluster: the cluster exited; see {cluster.log_dir}\n")
                return 1
    except (build.RealClusterUnavailable, RuntimeError) as exc:
        sys.stderr.write(f"realcluster: {exc}\n")
        return 2
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
