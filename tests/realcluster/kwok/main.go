// Command kwok runs kwok's controller (sigs.k8s.io/kwok) for the real test cluster, with kwok's own default
// pod life cycle and two changes: a configurable delay before a pod becomes Ready (--rollout-delay, as the
// simulated cluster has), and istiod pods left to the cluster's istiod runner, which marks them Ready only
// when the real istiod behind them answers its readiness probe.
//
// It is a module of its own because kwok follows a newer Kubernetes minor than the API server it drives.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"sigs.k8s.io/kwok/pkg/config"
	"sigs.k8s.io/kwok/pkg/kwok/cmd"
	"sigs.k8s.io/kwok/pkg/log"
	"sigs.k8s.io/kwok/pkg/utils/signals"
)

func main() {
	// our own two flags are taken off the command line; the rest is kwok's
	delay := time.Duration(0)
	stagesDir := os.TempDir()
	var rest []string
	for _, arg := range os.Args[1:] {
		switch {
		case strings.HasPrefix(arg, "--rollout-delay="):
			d, err := time.ParseDuration(strings.TrimPrefix(arg, "--rollout-delay="))
			if err != nil {
				fmt.Fprintf(os.Stderr, "kwok: %s: %v\n", arg, err)
				os.Exit(2)
			}
			delay = d
		case strings.HasPrefix(arg, "--stages-dir="):
			stagesDir = strings.TrimPrefix(arg, "--stages-dir=")
		default:
			rest = append(rest, arg)
		}
	}
	stages := filepath.Join(stagesDir, "kwok-stages.yaml")
	if err := os.WriteFile(stages, []byte(podStages(delay)), 0o600); err != nil {
		fmt.Fprintf(os.Stderr, "kwok: cannot write %s: %v\n", stages, err)
		os.Exit(1)
	}
	os.Args = append([]string{os.Args[0], "--config=" + stages}, rest...)

	flagset := pflag.NewFlagSet("global", pflag.ContinueOnError)
	flagset.ParseErrorsWhitelist.UnknownFlags = true
	flagset.Usage = func() {}
	ctx := signals.SetupSignalContext()
	ctx, logger := log.InitFlags(ctx, flagset)
	ctx, err := config.InitFlags(ctx, flagset)
	if err != nil {
		logger.Error("Init config flags", err)
		os.Exit(1)
	}
	command := cmd.NewCommand(ctx)
	command.PersistentFlags().AddFlagSet(flagset)
	command.SetArgs(os.Args[1:])
	if err := command.ExecuteContext(ctx); err != nil {
		logger.Error("Execute exit", err)
		os.Exit(1)
	}
}
