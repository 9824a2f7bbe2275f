package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// auditPolicy records every request of the test client (the kubeconfig "up" writes) at the Metadata level and
// nothing else: /_sim/requests serves them as the simulated cluster's request log, so that a test can prove
// that check mode wrote nothing (a dry run is logged with dryRun=All in its URI). The components' and
// istiod's own requests are not the test's and are left out.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: [realcluster-admin]
- level: None
`

// runSupervisor runs inside the new network namespace: it configures the namespace, starts every component
// as a child process, creates the nodes, runs the istiod host processes and the service proxy, prints
// "ready", and stops everything on SIGTERM.
func runSupervisor(args []string) int {
	fs := flag.NewFlagSet("supervisor", flag.ContinueOnError)
	dir := fs.String("state-dir", "", "")
	rolloutDelay := fs.Float64("rollout-delay", 0, "")
	nodes := fs.Int("nodes", 3, "")
	kwokBinary := fs.String("kwok", "", "")
	var istiods multiFlag
	fs.Var(&istiods, "istiod", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "%s supervisor: "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
	binaries, err := parseIstiods(istiods)
	if err != nil {
		logf("%v", err)
		return 2
	}
	if err := setupNetwork(); err != nil {
		logf("network namespace: %v", err)
		return 1
	}
	apiListener, err := net.FileListener(os.NewFile(3, "apiserver-listener"))
	if err != nil {
		logf("the API listener handed over by 'up': %v", err)
		return 1
	}
	self, _ := os.Executable()
	logDir := filepath.Join(*dir, "logs")
	pkiDir := filepath.Join(*dir, "pki")
	configDir := filepath.Join(*dir, "config")
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		logf("%v", err)
		return 1
	}
	keys, err := loadPKI(pkiDir)
	if err != nil {
		logf("PKI: %v", err)
		return 1
	}
	env := os.Environ()
	var procs []*proc
	stopAll := func() {
		for i := len(procs) - 1; i >= 0; i-- {
			procs[i].stop(10 * time.Second)
		}
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	start := func(name string, argv ...string) bool {
		p, err := startProc(name, logDir, *dir, env, append([]string{self, name}, argv...)...)
		if err != nil {
			logf("%v", err)
			return false
		}
		procs = append(procs, p)
		return true
	}
	t0 := time.Now()

	if !start("etcd", "--data-dir", filepath.Join(*dir, "etcd"), "--listen-client", etcdClientAddr, "--listen-peer", etcdPeerAddr) {
		return 1
	}
	if err := waitFor(ctx, 30*time.Second, procs, func() bool { return dialable(etcdClientAddr) }); err != nil {
		logf("etcd did not start: %v (logs/etcd.log)", err)
		stopAll()
		return 1
	}
	logf("etcd up after %.1f s", time.Since(t0).Seconds())

	policy := filepath.Join(configDir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		logf("%v", err)
		return 1
	}
	if !start("kube-apiserver",
		"--etcd-servers=http://"+etcdClientAddr,
		"--bind-address=0.0.0.0", fmt.Sprintf("--secure-port=%d", apiServerPort), "--advertise-address="+nodeIP,
		"--tls-cert-file="+keys.ServerCert, "--tls-private-key-file="+keys.ServerKey,
		"--client-ca-file="+keys.CACert, "--token-auth-file="+keys.TokenFile,
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+keys.SAPub, "--service-account-signing-key-file="+keys.SAKey,
		"--service-cluster-ip-range="+serviceCIDR,
		"--allow-privileged=true",
		"--enable-priority-and-fairness=false",
		"--profiling=false",
		"--audit-policy-file="+policy, "--audit-log-path="+filepath.Join(logDir, "audit.log"), "--audit-log-format=json",
		"--audit-log-maxsize=0",
		"--v=1",
	) {
		stopAll()
		return 1
	}
	httpClient := apiHTTPClient(keys)
	if err := waitFor(ctx, 90*time.Second, procs, func() bool { return readyz(httpClient, keys.Tokens["realcluster-supervisor"]) }); err != nil {
		logf("kube-apiserver did not become ready: %v (logs/kube-apiserver.log)", err)
		stopAll()
		return 1
	}
	logf("kube-apiserver ready after %.1f s", time.Since(t0).Seconds())

	server := fmt.Sprintf("https://127.0.0.1:%d", apiServerPort)
	kubeconfigFor := func(user string) string {
		path := filepath.Join(configDir, strings.ReplaceAll(user, ":", "-")+".kubeconfig")
		data, err := kubeconfigYAML("realcluster", server, keys.CACert, keys.Tokens[user])
		if err == nil {
			err = os.WriteFile(path, data, 0o600)
		}
		if err != nil {
			logf("%v", err)
		}
		return path
	}
	kcm := kubeconfigFor("system:kube-controller-manager")
	if !start("kube-controller-manager", "--kubeconfig="+kcm, "--authentication-kubeconfig="+kcm, "--authorization-kubeconfig="+kcm,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=10257",
		"--service-account-private-key-file="+keys.SAKey, "--root-ca-file="+keys.CACert,
		"--cluster-signing-cert-file="+keys.CACert, "--cluster-signing-key-file="+keys.CAKey,
		"--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
		"--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
		"--profiling=false", "--v=1") {
		stopAll()
		return 1
	}
	sched := kubeconfigFor("system:kube-scheduler")
	if !start("kube-scheduler", "--kubeconfig="+sched, "--authentication-kubeconfig="+sched, "--authorization-kubeconfig="+sched,
		"--leader-elect=false", "--bind-address=127.0.0.1", "--secure-port=10259", "--profiling=false", "--v=1") {
		stopAll()
		return 1
	}
	kwok, err := startProc("kwok", logDir, *dir, env, *kwokBinary,
		fmt.Sprintf("--rollout-delay=%dms", int64(*rolloutDelay*1000)), "--stages-dir="+configDir,
		"--kubeconfig="+kubeconfigFor("kwok-controller"), "--manage-all-nodes=true",
		"--cidr="+podCIDR, "--node-ip="+nodeIP, "--node-lease-duration-seconds=40")
	if err != nil {
		logf("%v", err)
		stopAll()
		return 1
	}
	procs = append(procs, kwok)

	restConfig, err := clientcmd.BuildConfigFromFlags("", kubeconfigFor("realcluster-supervisor"))
	if err != nil {
		logf("%v", err)
		stopAll()
		return 1
	}
	restConfig.QPS, restConfig.Burst = 100, 200
	client := kubernetes.NewForConfigOrDie(restConfig)
	if err := createNodes(ctx, client, *nodes); err != nil {
		logf("cannot create the nodes: %v", err)
		stopAll()
		return 1
	}
	if err := waitFor(ctx, 60*time.Second, procs, func() bool { return nodesReady(ctx, client, *nodes) && defaultServiceAccount(ctx, client) }); err != nil {
		logf("the nodes or the default ServiceAccount did not appear: %v (logs/kwok.log, logs/kube-controller-manager.log)", err)
		stopAll()
		return 1
	}
	logf("nodes ready after %.1f s", time.Since(t0).Seconds())

	front := &frontProxy{keys: keys, auditPath: filepath.Join(logDir, "audit.log"), client: client}
	go func() {
		if err := front.serve(apiListener); err != nil {
			logf("front proxy: %v", err)
		}
	}()
	proxy := newServiceProxy(logf)
	runner := newIstiodRunner(client, binaries, filepath.Join(*dir, "istiod"), logDir, server, keys.CACert, proxy, logf)
	go runner.run(ctx)
	go proxy.run(ctx, client)

	fmt.Println("ready")
	logf("ready after %.1f s", time.Since(t0).Seconds())

	died := make(chan *proc, len(procs))
	for _, p := range procs {
		go func(p *proc) { <-p.done; died <- p }(p)
	}
	code := 0
	select {
	case <-ctx.Done():
		logf("stopping")
	case p := <-died:
		logf("%s exited unexpectedly (%v); see logs/%s.log; stopping the cluster", p.name, p.err, p.name)
		code = 1
	}
	runner.stopAll()
	proxy.stopAll()
	stopAll()
	return code
}

func loadPKI(dir string) (*pki, error) {
	p := pkiPaths(dir)
	data, err := os.ReadFile(p.TokenFile)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.SplitN(line, ",", 3)
		if len(fields) == 3 {
			p.Tokens[fields[1]] = fields[0]
		}
	}
	return p, nil
}

func apiHTTPClient(keys *pki) *http.Client {
	pool := x509.NewCertPool()
	if ca, err := os.ReadFile(keys.CACert); err == nil {
		pool.AppendCertsFromPEM(ca)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func readyz(client *http.Client, token string) bool {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d/readyz", apiServerPort), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func dialable(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// waitFor polls cond until it holds, the timeout passes, the context ends or a component exits.
func waitFor(ctx context.Context, timeout time.Duration, procs []*proc, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return nil
		}
		for _, p := range procs {
			if p.exited() {
				return fmt.Errorf("%s exited (%v)", p.name, p.err)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// createNodes registers the kwok nodes, as a kubelet registers itself: capacity, and the kubelet version of
// the pinned Kubernetes (Istio reads it to decide on native sidecars).
func createNodes(ctx context.Context, client kubernetes.Interface, n int) error {
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("kwok-node-%d", i)
		resources := corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("64"),
			corev1.ResourceMemory: resource.MustParse("256Gi"),
			corev1.ResourcePods:   resource.MustParse("250"),
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
				"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"},
				Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"}},
			Status: corev1.NodeStatus{Capacity: resources, Allocatable: resources,
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP}, {Type: corev1.NodeHostName, Address: name}},
				NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: kubeletVersion(), OperatingSystem: "linux", Architecture: "amd64"}},
		}
		if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

func nodesReady(ctx context.Context, client kubernetes.Interface, n int) bool {
	list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	ready := 0
	for _, node := range list.Items {
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	return ready >= n
}

func defaultServiceAccount(ctx context.Context, client kubernetes.Interface) bool {
	_, err := client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
	return err == nil
}
