package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// frontProxy serves the cluster on the host's loopback: it terminates TLS with the API server's own
// certificate and passes every request through to the API server unchanged, except the test instruments
// under /_sim/ that the simulated cluster serves as well, so that a test or a molecule scenario runs
// unchanged against either cluster:
//
//	GET    /_sim/requests  the test client's write requests (from the API server's audit log), oldest first
//	DELETE /_sim/requests  forget them
//	POST   /_sim/settle    {"timeout": SECONDS}: wait until every rollout is done and every pod Ready
//
// The other /_sim/ instruments (faults, dump, load) exist only on the simulated cluster.
type frontProxy struct {
	keys      *pki
	auditPath string
	client    kubernetes.Interface
	mu        sync.Mutex
	skip      int // audit log lines forgotten by DELETE /_sim/requests
}

// the user whose requests /_sim/requests reports: the test client (the kubeconfig written by "up")
const testClientUser = "realcluster-admin"

func (f *frontProxy) serve(ln net.Listener) error {
	cert, err := tls.LoadX509KeyPair(f.keys.ServerCert, f.keys.ServerKey)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if ca, err := os.ReadFile(f.keys.CACert); err == nil {
		pool.AppendCertsFromPEM(ca)
	}
	upstream, _ := url.Parse(fmt.Sprintf("https://127.0.0.1:%d", apiServerPort))
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true,
		MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	proxy.FlushInterval = -1 // watch streams go through as they come
	mux := http.NewServeMux()
	mux.HandleFunc("/_sim/", f.instruments)
	mux.Handle("/", proxy)
	server := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}},
		ReadHeaderTimeout: 30 * time.Second}
	return server.ServeTLS(ln, "", "")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *frontProxy) instruments(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+f.keys.Tokens[testClientUser] {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure",
			"message": "Unauthorized", "reason": "Unauthorized", "code": 401})
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/_sim/requests":
		records, _ := f.requests()
		writeJSON(w, http.StatusOK, records)
	case r.Method == http.MethodDelete && r.URL.Path == "/_sim/requests":
		_, lines := f.requests()
		f.mu.Lock()
		f.skip = lines
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"cleared": true})
	case r.Method == http.MethodPost && r.URL.Path == "/_sim/settle":
		var body struct {
			Timeout float64 `json:"timeout"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.Timeout <= 0 {
			body.Timeout = 10
		}
		settled := f.settle(r.Context(), time.Duration(body.Timeout*float64(time.Second)))
		writeJSON(w, http.StatusOK, map[string]any{"settled": settled})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
			"message": "the real cluster serves only /_sim/requests (GET, DELETE) and /_sim/settle (POST); faults, dump and load exist only on the simulated cluster"})
	}
}

type auditEvent struct {
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	StageTimestamp time.Time `json:"stageTimestamp"`
}

var verbMethods = map[string]string{"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT",
	"patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETE"}

// requests reads the audit log: the test client's requests in the request-log form of the simulated cluster,
// and the number of lines read.
func (f *frontProxy) requests() ([]map[string]any, int) {
	time.Sleep(50 * time.Millisecond) // an event is written just after its response is sent
	f.mu.Lock()
	skip := f.skip
	f.mu.Unlock()
	records := []map[string]any{}
	file, err := os.Open(f.auditPath)
	if err != nil {
		return records, skip
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 16<<20)
	lines := 0
	for scanner.Scan() {
		lines++
		if lines <= skip {
			continue
		}
		var e auditEvent
		if json.Unmarshal(scanner.Bytes(), &e) != nil || e.Stage != "ResponseComplete" || e.User.Username != testClientUser {
			continue
		}
		u, _ := url.Parse(e.RequestURI)
		query := map[string]any{}
		for k, v := range u.Query() {
			query[k] = v[len(v)-1]
		}
		record := map[string]any{"time": float64(e.StageTimestamp.UnixNano()) / 1e9, "method": verbMethods[e.Verb], "path": u.Path,
			"query": query, "status": 0, "dry_run": query["dryRun"] == "All", "verb": e.Verb, "resource": "", "subresource": "",
			"namespace": "", "name": "", "user_agent": e.UserAgent, "fault": ""}
		if e.ResponseStatus != nil {
			record["status"] = e.ResponseStatus.Code
		}
		if ref := e.ObjectRef; ref != nil {
			resource := ref.Resource
			if ref.APIGroup != "" {
				resource = ref.APIGroup + "/" + ref.Resource
			}
			record["resource"], record["subresource"], record["namespace"], record["name"] = resource, ref.Subresource, ref.Namespace, ref.Name
		}
		records = append(records, record)
	}
	return records, lines
}

// settle waits until every Deployment, StatefulSet and DaemonSet has rolled out, no pod is Pending or
// terminating and every running pod is Ready; false when the timeout passes first.
func (f *frontProxy) settle(ctx context.Context, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if f.idle(ctx) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (f *frontProxy) idle(ctx context.Context) bool {
	deployments, err := f.client.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	for _, d := range deployments.Items {
		if !deploymentDone(&d) {
			return false
		}
	}
	statefulsets, err := f.client.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	for _, s := range statefulsets.Items {
		replicas := int32(1)
		if s.Spec.Replicas != nil {
			replicas = *s.Spec.Replicas
		}
		if s.Status.ObservedGeneration < s.Generation || s.Status.ReadyReplicas != replicas || s.Status.Replicas != replicas {
			return false
		}
		if s.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType && s.Status.UpdateRevision != s.Status.CurrentRevision {
			return false
		}
	}
	daemonsets, err := f.client.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	for _, d := range daemonsets.Items {
		st := d.Status
		if st.ObservedGeneration < d.Generation || st.NumberReady != st.DesiredNumberScheduled || st.UpdatedNumberScheduled != st.DesiredNumberScheduled {
			return false
		}
	}
	pods, err := f.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return false
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodPending {
			return false
		}
		if p.Status.Phase == corev1.PodRunning && !podReady(&p) {
			return false
		}
	}
	return true
}

func deploymentDone(d *appsv1.Deployment) bool {
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	st := d.Status
	return st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == replicas && st.Replicas == replicas &&
		st.ReadyReplicas == replicas && st.AvailableReplicas == replicas
}
