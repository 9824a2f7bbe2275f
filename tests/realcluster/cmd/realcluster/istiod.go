package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// The container ports of istiod (the istiod chart's Deployment), each moved to a port of its own per host
// process: every istiod runs in the same network namespace.
var istiodPortOffsets = map[int32]int{8080: 80, 15010: 10, 15012: 12, 15014: 14, 15017: 17}

const istiodPortBase = 20000

func parseIstiods(values []string) (map[string]string, error) {
	binaries := map[string]string{}
	for _, v := range values {
		version, path, ok := strings.Cut(v, "=")
		if !ok || version == "" || path == "" {
			return nil, fmt.Errorf("--istiod %q: want VERSION=BINARY", v)
		}
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("--istiod %s: %v", version, err)
		}
		binaries[version] = path
	}
	return binaries, nil
}

// kubeletVersion is the version of the k8s.io/kubernetes module this program is built from.
func kubeletVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/kubernetes" {
				return dep.Version
			}
		}
	}
	return "v1.35.0"
}

// istiodInstance is one host process standing in for the pods of one istiod Deployment.
type istiodInstance struct {
	key        string // namespace/name of the Deployment
	namespace  string
	deployment *appsv1.Deployment
	specHash   string
	slot       int
	ports      map[int32]int    // container port -> local port
	namedPorts map[string]int32 // container port name -> container port
	proc       *proc
	ready      bool
	cancel     context.CancelFunc
}

func (i *istiodInstance) localPort(containerPort int32) int {
	return istiodPortBase + i.slot*100 + istiodPortOffsets[containerPort]
}

// istiodRunner is the kubelet of istiod: it watches the Deployments labelled app=istiod and runs, for each,
// the real pilot-discovery of the Istio version its image names, with the container's arguments and
// environment, against the API server. It marks the Deployment's pods Ready when istiod answers /ready, as
// the chart's readiness probe would, and tells the service proxy where each istiod listens.
type istiodRunner struct {
	client    kubernetes.Interface
	binaries  map[string]string
	dir       string
	logDir    string
	server    string
	caFile    string
	proxy     *serviceProxy
	logf      func(string, ...any)
	mu        sync.Mutex
	instances map[string]*istiodInstance
	slots     map[int]bool
}

func newIstiodRunner(client kubernetes.Interface, binaries map[string]string, dir, logDir, server, caFile string,
	proxy *serviceProxy, logf func(string, ...any)) *istiodRunner {
	return &istiodRunner{client: client, binaries: binaries, dir: dir, logDir: logDir, server: server, caFile: caFile,
		proxy: proxy, logf: logf, instances: map[string]*istiodInstance{}, slots: map[int]bool{}}
}

func (r *istiodRunner) run(ctx context.Context) {
	factory := informers.NewSharedInformerFactoryWithOptions(r.client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = "app=istiod" }))
	informer := factory.Apps().V1().Deployments().Informer()
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { r.sync(ctx, obj.(*appsv1.Deployment), false) },
		UpdateFunc: func(_, obj any) { r.sync(ctx, obj.(*appsv1.Deployment), false) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(*appsv1.Deployment); ok {
				r.sync(ctx, d, true)
			} else if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				if d, ok := t.Obj.(*appsv1.Deployment); ok {
					r.sync(ctx, d, true)
				}
			}
		},
	})
	factory.Start(ctx.Done())
	ticker := time.NewTicker(500 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			r.probeAndMarkPods(ctx)
		}
	}
}

func hashSpec(d *appsv1.Deployment) string {
	var replicas int32 = 1
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	data, _ := json.Marshal(struct {
		T corev1.PodTemplateSpec
		R bool
	}{d.Spec.Template, replicas > 0})
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// sync makes the host process match the Deployment: started, restarted when the pod template changed,
// stopped when the Deployment is deleted or scaled to zero.
func (r *istiodRunner) sync(ctx context.Context, d *appsv1.Deployment, deleted bool) {
	key := d.Namespace + "/" + d.Name
	r.mu.Lock()
	defer r.mu.Unlock()
	current := r.instances[key]
	wanted := !deleted && (d.Spec.Replicas == nil || *d.Spec.Replicas > 0) && d.DeletionTimestamp == nil
	hash := hashSpec(d)
	if current != nil && (!wanted || current.specHash != hash) {
		r.stopLocked(current)
	}
	if !wanted || (current != nil && current.specHash == hash) {
		if current != nil && wanted {
			current.deployment = d
		}
		return
	}
	slot := 0
	for r.slots[slot] {
		slot++
	}
	r.slots[slot] = true
	instCtx, cancel := context.WithCancel(ctx)
	inst := &istiodInstance{key: key, namespace: d.Namespace, deployment: d, specHash: hash, slot: slot, cancel: cancel,
		ports: map[int32]int{}, namedPorts: map[string]int32{}}
	for port := range istiodPortOffsets {
		inst.ports[port] = inst.localPort(port)
	}
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name != "" {
				inst.namedPorts[p.Name] = p.ContainerPort
			}
		}
	}
	r.instances[key] = inst
	go r.keepRunning(instCtx, inst)
}

func (r *istiodRunner) stopLocked(inst *istiodInstance) {
	inst.cancel()
	if inst.proc != nil {
		inst.proc.stop(10 * time.Second)
	}
	r.proxy.removeBackend(inst.key)
	delete(r.slots, inst.slot)
	delete(r.instances, inst.key)
	r.logf("istiod %s stopped", inst.key)
}

func (r *istiodRunner) stopAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, inst := range r.instances {
		r.stopLocked(inst)
	}
}

// keepRunning starts the process and restarts it with a back-off when it exits, as a kubelet would.
func (r *istiodRunner) keepRunning(ctx context.Context, inst *istiodInstance) {
	backoff := time.Second
	for ctx.Err() == nil {
		p, err := r.start(ctx, inst)
		if err != nil {
			r.logf("istiod %s: %v; trying again in %s", inst.key, err, backoff)
		} else {
			r.mu.Lock()
			inst.proc = p
			r.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-p.done:
				r.logf("istiod %s exited (%v); see its log; restarting in %s", inst.key, p.err, backoff)
				r.mu.Lock()
				inst.ready = false
				r.mu.Unlock()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 30*time.Second {
			backoff *= 2
		}
	}
}

func (r *istiodRunner) start(ctx context.Context, inst *istiodInstance) (*proc, error) {
	d := inst.deployment
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return nil, fmt.Errorf("the Deployment has no container")
	}
	container := d.Spec.Template.Spec.Containers[0]
	version := imageVersion(container.Image)
	binary, ok := r.binaries[version]
	if !ok {
		known := make([]string, 0, len(r.binaries))
		for v := range r.binaries {
			known = append(known, v)
		}
		sort.Strings(known)
		return nil, fmt.Errorf("image %s names Istio %q, but this cluster has pilot-discovery only for %v", container.Image, version, known)
	}
	sa := d.Spec.Template.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	expiry := int64(24 * 3600)
	token, err := r.client.CoreV1().ServiceAccounts(d.Namespace).CreateToken(ctx, sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token for ServiceAccount %s/%s: %w", d.Namespace, sa, err)
	}
	workDir := filepath.Join(r.dir, d.Namespace+"-"+d.Name)
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(workDir, "kubeconfig")
	data, err := kubeconfigYAML("realcluster", r.server, r.caFile, token.Status.Token)
	if err == nil {
		err = os.WriteFile(kubeconfig, data, 0o600)
	}
	if err != nil {
		return nil, err
	}
	podName := d.Name + "-host"
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + workDir}
	for _, e := range container.Env {
		value, ok := r.envValue(ctx, d, container, podName, sa, e)
		if e.Name == "KUBECONFIG" {
			value, ok = kubeconfig, true
		}
		if ok {
			env = append(env, e.Name+"="+value)
		}
	}
	args := append([]string{}, container.Args...)
	args = append(args,
		"--kubeconfig="+kubeconfig,
		fmt.Sprintf("--httpAddr=127.0.0.1:%d", inst.ports[8080]),
		fmt.Sprintf("--httpsAddr=127.0.0.1:%d", inst.ports[15017]),
		fmt.Sprintf("--grpcAddr=127.0.0.1:%d", inst.ports[15010]),
		fmt.Sprintf("--secureGRPCAddr=127.0.0.1:%d", inst.ports[15012]),
		fmt.Sprintf("--monitoringAddr=127.0.0.1:%d", inst.ports[15014]),
		fmt.Sprintf("--ctrlz_port=%d", istiodPortBase+inst.slot*100+76),
	)
	name := "istiod-" + d.Namespace + "-" + d.Name
	p, err := startProc(name, r.logDir, workDir, env, append([]string{binary}, args...)...)
	if err != nil {
		return nil, err
	}
	r.proxy.setBackend(inst.key, d.Namespace, d.Spec.Template.Labels, inst.ports, inst.namedPorts)
	r.logf("istiod %s: started pilot-discovery %s (pid %d, ports %d-%d, log logs/%s.log)", inst.key, version,
		p.cmd.Process.Pid, istiodPortBase+inst.slot*100, istiodPortBase+inst.slot*100+99, name)
	return p, nil
}

// imageVersion is the Istio version an istiod image names: docker.io/istio/pilot:1.28.2-distroless -> 1.28.2.
func imageVersion(image string) string {
	if i := strings.LastIndex(image, "@"); i >= 0 {
		image = image[:i]
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	tag := image[i+1:]
	tag = strings.TrimSuffix(tag, "-distroless")
	tag = strings.TrimSuffix(tag, "-debug")
	return tag
}

// envValue resolves one container environment variable as the kubelet would for this host "pod".
func (r *istiodRunner) envValue(ctx context.Context, d *appsv1.Deployment, c corev1.Container, podName, sa string, e corev1.EnvVar) (string, bool) {
	if e.ValueFrom == nil {
		return e.Value, true
	}
	switch {
	case e.ValueFrom.FieldRef != nil:
		switch path := e.ValueFrom.FieldRef.FieldPath; {
		case path == "metadata.name":
			return podName, true
		case path == "metadata.namespace":
			return d.Namespace, true
		case path == "spec.serviceAccountName":
			return sa, true
		case path == "spec.nodeName":
			return "kwok-node-0", true
		case path == "status.podIP", path == "status.hostIP":
			return nodeIP, true
		case strings.HasPrefix(path, "metadata.labels['"):
			return d.Spec.Template.Labels[strings.TrimSuffix(strings.TrimPrefix(path, "metadata.labels['"), "']")], true
		}
		return "", false
	case e.ValueFrom.ResourceFieldRef != nil:
		switch e.ValueFrom.ResourceFieldRef.Resource {
		case "limits.cpu", "requests.cpu":
			// the host has two cores; a limit above that would only oversubscribe it
			return "2", true
		case "limits.memory":
			if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
				return fmt.Sprint(q.Value()), true
			}
		}
		return "", false
	case e.ValueFrom.ConfigMapKeyRef != nil:
		ref := e.ValueFrom.ConfigMapKeyRef
		cm, err := r.client.CoreV1().ConfigMaps(d.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return "", false
		}
		v, ok := cm.Data[ref.Key]
		return v, ok
	case e.ValueFrom.SecretKeyRef != nil:
		ref := e.ValueFrom.SecretKeyRef
		s, err := r.client.CoreV1().Secrets(d.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return "", false
		}
		v, ok := s.Data[ref.Key]
		return string(v), ok
	}
	return "", false
}

// probeAndMarkPods is the readiness probe: each istiod's /ready, then the status of the Deployment's pods,
// which kwok leaves to this runner (see kwokStages).
func (r *istiodRunner) probeAndMarkPods(ctx context.Context) {
	r.mu.Lock()
	type target struct {
		selector labels.Selector
		ns       string
		ready    bool
		slot     int
	}
	var targets []target
	for _, inst := range r.instances {
		ready := inst.proc != nil && !inst.proc.exited() && httpOK(fmt.Sprintf("http://127.0.0.1:%d/ready", inst.ports[8080]))
		if ready && !inst.ready {
			r.logf("istiod %s ready", inst.key)
		}
		inst.ready = ready
		sel, err := metav1.LabelSelectorAsSelector(inst.deployment.Spec.Selector)
		if err == nil {
			targets = append(targets, target{selector: sel, ns: inst.namespace, ready: ready, slot: inst.slot})
		}
	}
	r.mu.Unlock()
	pods, err := r.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: "app=istiod"})
	if err != nil {
		return
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil {
			continue
		}
		ready := false
		slot := 0
		for _, t := range targets {
			if t.ns == pod.Namespace && t.selector.Matches(labels.Set(pod.Labels)) {
				ready, slot = t.ready, t.slot
			}
		}
		if podReady(pod) == ready && pod.Status.Phase == corev1.PodRunning {
			continue
		}
		setPodStatus(pod, ready, fmt.Sprintf("198.19.1.%d", slot+1))
		if _, err := r.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
			r.logf("pod %s/%s status: %v", pod.Namespace, pod.Name, err)
		}
	}
}

func httpOK(url string) bool {
	client := http.Client{Timeout: time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func setPodStatus(pod *corev1.Pod, ready bool, ip string) {
	now := metav1.Now()
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.HostIP = nodeIP
	pod.Status.HostIPs = []corev1.HostIP{{IP: nodeIP}}
	pod.Status.PodIP = ip
	pod.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	if pod.Status.StartTime == nil {
		pod.Status.StartTime = &now
	}
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: status, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: status, LastTransitionTime: now},
	}
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: ready, Started: &ready,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}})
	}
}
