// Command realcluster runs a small real Kubernetes cluster on this machine, as local processes inside a network
// namespace of its own: embedded etcd, the upstream kube-apiserver, kube-controller-manager and kube-scheduler,
// kwok's fake nodes, and a host-process runner for istiod that starts the real pilot-discovery of the release
// a Deployment names. It is a test instrument for meshops.istio: never point it at anything but loopback.
//
//	realcluster up --state-dir DIR --kubeconfig FILE [--istiod VERSION=BINARY ...] [--rollout-delay SECONDS]
//
// prints "ready https://127.0.0.1:PORT" once the cluster serves, and stops everything it started on SIGTERM or
// SIGINT. The other subcommands are the components themselves, started by "up" (hyperkube style).
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"k8s.io/component-base/cli"
	kubeapiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kubecontrollermanager "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kubescheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

const usage = `usage: realcluster up --state-dir DIR --kubeconfig FILE --kwok BINARY [--istiod VERSION=BINARY ...] [--rollout-delay SECONDS] [--nodes N] [--port N]

Starts a local real cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, istiod runner)
inside a network namespace, writes FILE and prints "ready https://127.0.0.1:PORT".
Components (started by "up"): etcd, kube-apiserver, kube-controller-manager, kube-scheduler, supervisor;
kwok is a program of its own (../../kwok), given with --kwok.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	name, args := os.Args[1], os.Args[2:]
	switch name {
	case "up":
		os.Exit(runUp(args))
	case "supervisor":
		os.Exit(runSupervisor(args))
	case "etcd":
		os.Exit(runEtcd(args))
	case "kube-apiserver":
		os.Exit(runCobra(kubeapiserver.NewAPIServerCommand(), args))
	case "kube-controller-manager":
		os.Exit(runCobra(kubecontrollermanager.NewControllerManagerCommand(), args))
	case "kube-scheduler":
		os.Exit(runCobra(kubescheduler.NewSchedulerCommand(), args))
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "realcluster: unknown subcommand %q\n%s", name, usage)
		os.Exit(2)
	}
}

// runCobra runs one upstream component's own cobra command with the given arguments, as its main() does.
func runCobra(command *cobra.Command, args []string) int {
	command.SetArgs(args)
	return cli.Run(command)
}
