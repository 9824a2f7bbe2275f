package main

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// backend is one istiod host process as the service proxy sees it: the labels of its "pods" and where each
// container port listens on loopback.
type backend struct {
	namespace  string
	labels     labels.Set
	ports      map[int32]int
	namedPorts map[string]int32
}

// serviceProxy is a small userspace kube-proxy for the Services whose selector picks an istiod host process:
// it listens on the Service's ClusterIP and port (the whole Service CIDR is local in the namespace) and
// forwards to the istiod's loopback port for the target port. The API server calls webhooks at a Service's
// ClusterIP and port, so this is how it reaches istiod's injection and validation webhooks.
type serviceProxy struct {
	logf      func(string, ...any)
	mu        sync.Mutex
	backends  map[string]*backend // instance key -> backend
	services  map[string]*corev1.Service
	listeners map[string]*proxyListener // "ip:port" -> listener
}

type proxyListener struct {
	ln     net.Listener
	target string // "127.0.0.1:port", read under the proxy's lock
}

func newServiceProxy(logf func(string, ...any)) *serviceProxy {
	return &serviceProxy{logf: logf, backends: map[string]*backend{}, services: map[string]*corev1.Service{},
		listeners: map[string]*proxyListener{}}
}

func (p *serviceProxy) run(ctx context.Context, client kubernetes.Interface) {
	factory := informers.NewSharedInformerFactory(client, 0)
	informer := factory.Core().V1().Services().Informer()
	key := func(s *corev1.Service) string { return s.Namespace + "/" + s.Name }
	_, _ = informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.setService(key(obj.(*corev1.Service)), obj.(*corev1.Service)) },
		UpdateFunc: func(_, obj any) { p.setService(key(obj.(*corev1.Service)), obj.(*corev1.Service)) },
		DeleteFunc: func(obj any) {
			if s, ok := obj.(*corev1.Service); ok {
				p.setService(key(s), nil)
			} else if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				p.setService(t.Key, nil)
			}
		},
	})
	factory.Start(ctx.Done())
	<-ctx.Done()
}

func (p *serviceProxy) setService(key string, s *corev1.Service) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s == nil {
		delete(p.services, key)
	} else {
		p.services[key] = s
	}
	p.reconcileLocked()
}

func (p *serviceProxy) setBackend(key, namespace string, podLabels map[string]string, ports map[int32]int, named map[string]int32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends[key] = &backend{namespace: namespace, labels: labels.Set(podLabels), ports: ports, namedPorts: named}
	p.reconcileLocked()
}

func (p *serviceProxy) removeBackend(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.backends, key)
	p.reconcileLocked()
}

func (p *serviceProxy) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, l := range p.listeners {
		l.ln.Close()
		delete(p.listeners, addr)
	}
}

// reconcileLocked opens a listener for every (ClusterIP, port) of a Service that selects a backend, points it
// at that backend, and closes the listeners nothing selects any more.
func (p *serviceProxy) reconcileLocked() {
	wanted := map[string]string{}
	backendKeys := make([]string, 0, len(p.backends))
	for k := range p.backends {
		backendKeys = append(backendKeys, k)
	}
	sort.Strings(backendKeys)
	for _, s := range p.services {
		if len(s.Spec.Selector) == 0 || s.Spec.ClusterIP == "" || s.Spec.ClusterIP == corev1.ClusterIPNone {
			continue
		}
		selector := labels.SelectorFromSet(s.Spec.Selector)
		for _, k := range backendKeys {
			b := p.backends[k]
			if b.namespace != s.Namespace || !selector.Matches(b.labels) {
				continue
			}
			for _, port := range s.Spec.Ports {
				if port.Protocol != "" && port.Protocol != corev1.ProtocolTCP {
					continue
				}
				containerPort := resolveTargetPort(port, b)
				local, ok := b.ports[containerPort]
				if !ok {
					continue
				}
				addr := net.JoinHostPort(s.Spec.ClusterIP, fmt.Sprint(port.Port))
				if _, taken := wanted[addr]; !taken {
					wanted[addr] = fmt.Sprintf("127.0.0.1:%d", local)
				}
			}
		}
	}
	for addr, l := range p.listeners {
		if target, ok := wanted[addr]; ok {
			l.target = target
			continue
		}
		l.ln.Close()
		delete(p.listeners, addr)
		p.logf("service proxy: %s closed", addr)
	}
	for addr, target := range wanted {
		if _, ok := p.listeners[addr]; ok {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			p.logf("service proxy: cannot listen on %s: %v", addr, err)
			continue
		}
		l := &proxyListener{ln: ln, target: target}
		p.listeners[addr] = l
		p.logf("service proxy: %s -> %s", addr, target)
		go serveForward(ln, func() string {
			p.mu.Lock()
			defer p.mu.Unlock()
			return l.target
		})
	}
}

func resolveTargetPort(port corev1.ServicePort, b *backend) int32 {
	switch {
	case port.TargetPort.Type == intstr.String && port.TargetPort.StrVal != "":
		return b.namedPorts[port.TargetPort.StrVal]
	case port.TargetPort.IntVal != 0:
		return port.TargetPort.IntVal
	default:
		return port.Port
	}
}
