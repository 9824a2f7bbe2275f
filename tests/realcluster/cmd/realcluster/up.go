package main

import (
	"bufio"
	"encoding/base64"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// runUp is the host side: it makes the PKI, opens the API listener on the host's loopback, starts the
// supervisor in a new network namespace (handing it the listener), writes the kubeconfig, prints the ready
// line and stops everything on SIGTERM or SIGINT.
func runUp(args []string) int {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	stateDir := fs.String("state-dir", "", "directory for the cluster's files (PKI, etcd data, logs); emptied at start")
	kubeconfig := fs.String("kubeconfig", "", "where to write the kubeconfig for clients (context 'realcluster')")
	port := fs.Int("port", 0, "port of the API server on the host's 127.0.0.1 (default: chosen by the OS)")
	var istiods multiFlag
	fs.Var(&istiods, "istiod", "VERSION=BINARY: the pilot-discovery to run for istiod Deployments of that Istio version; repeatable")
	rolloutDelay := fs.Float64("rollout-delay", 0, "seconds before a new pod becomes Ready")
	nodes := fs.Int("nodes", 3, "number of kwok nodes")
	kwok := fs.String("kwok", "", "the kwok binary (built from ../../kwok)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *stateDir == "" || *kubeconfig == "" || *kwok == "" {
		fmt.Fprint(os.Stderr, "realcluster up: --state-dir, --kubeconfig and --kwok are required\n", usage)
		return 2
	}
	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		return fail("state dir: %v", err)
	}
	for _, sub := range []string{"pki", "etcd", "logs", "istiod", "config"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return fail("cannot empty %s: %v", filepath.Join(dir, sub), err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o700); err != nil {
		return fail("%v", err)
	}
	keys, err := makePKI(filepath.Join(dir, "pki"), []net.IP{net.ParseIP(nodeIP), net.ParseIP(firstServiceIP)})
	if err != nil {
		return fail("cannot make the PKI: %v", err)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		return fail("cannot listen on 127.0.0.1:%d: %v; choose another --port or omit it", *port, err)
	}
	lnFile, err := ln.(*net.TCPListener).File()
	if err != nil {
		return fail("%v", err)
	}
	url := "https://" + ln.Addr().String()

	self, err := os.Executable()
	if err != nil {
		return fail("%v", err)
	}
	supArgs := []string{"supervisor", "--state-dir", dir, "--rollout-delay", fmt.Sprint(*rolloutDelay), "--nodes", fmt.Sprint(*nodes), "--kwok", *kwok}
	for _, i := range istiods {
		supArgs = append(supArgs, "--istiod", i)
	}
	cmd := exec.Command(self, supArgs...)
	cmd.ExtraFiles = []*os.File{lnFile}
	logFile, err := os.OpenFile(filepath.Join(dir, "logs", "supervisor.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fail("%v", err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fail("%v", err)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGTERM}
	if os.Geteuid() != 0 {
		// without root, a user namespace gives the supervisor the right to configure its network namespace
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}}
	}
	if err := cmd.Start(); err != nil {
		return fail("cannot start the supervisor in a new network namespace: %v", err)
	}
	lnFile.Close()
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
		close(lines)
	}()
	go func() { exited <- cmd.Wait() }()

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	started := time.Now()
	ready := false
	for !ready {
		select {
		case line, ok := <-lines:
			if !ok {
				err := <-exited
				return fail("the supervisor exited before the cluster was ready (%v); its log: %s\n%s", err,
					filepath.Join(dir, "logs", "supervisor.log"), tail(filepath.Join(dir, "logs", "supervisor.log"), 30))
			}
			if line == "ready" {
				ready = true
			}
		case <-signals:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-exited
			return 1
		}
	}
	config, err := kubeconfigYAML("realcluster", url, keys.CACert, keys.Tokens["realcluster-admin"])
	if err == nil {
		err = writeFileAtomic(*kubeconfig, config)
	}
	if err != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		return fail("cannot write the kubeconfig %s: %v", *kubeconfig, err)
	}
	fmt.Fprintf(os.Stderr, "realcluster: cluster up in %.1f s; logs in %s\n", time.Since(started).Seconds(), filepath.Join(dir, "logs"))
	fmt.Printf("ready %s\n", url)

	select {
	case <-signals:
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		return 0
	case err := <-exited:
		return fail("the supervisor exited (%v); its log: %s\n%s", err, filepath.Join(dir, "logs", "supervisor.log"),
			tail(filepath.Join(dir, "logs", "supervisor.log"), 30))
	}
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "realcluster: "+format+"\n", args...)
	return 1
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
