package main

import (
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The addresses of the cluster. They exist only inside the cluster's own network namespace: nothing is routed
// off the machine. 198.18.0.0/15 is the range set aside for network tests (RFC 2544), so it can never be
// confused with a real network.
const (
	serviceCIDR    = "198.18.0.0/16"   // --service-cluster-ip-range; made local to the namespace (AnyIP route)
	firstServiceIP = "198.18.0.1"      // the "kubernetes" Service
	nodeIP         = "198.19.0.1"      // the API server's advertise address and every kwok node's InternalIP
	podCIDR        = "198.19.128.0/17" // kwok's pod IPs (never dialled)
	apiServerPort  = 6443
	etcdClientAddr = "127.0.0.1:2379"
	etcdPeerAddr   = "127.0.0.1:2380"
)

// setupNetwork prepares the fresh network namespace: loopback up, the node address on it, and the whole
// Service CIDR made local, so that the service proxy can listen on any ClusterIP and the API server reaches
// webhooks at a Service's ClusterIP as it does in a cluster with kube-proxy.
func setupNetwork() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find loopback: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("bring loopback up: %w", err)
	}
	addr, err := netlink.ParseAddr(nodeIP + "/32")
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(lo, addr); err != nil {
		return fmt.Errorf("add %s to loopback: %w", nodeIP, err)
	}
	_, services, err := net.ParseCIDR(serviceCIDR)
	if err != nil {
		return err
	}
	route := &netlink.Route{LinkIndex: lo.Attrs().Index, Dst: services, Type: unix.RTN_LOCAL, Table: unix.RT_TABLE_LOCAL,
		Scope: netlink.SCOPE_HOST, Protocol: unix.RTPROT_STATIC}
	if err := netlink.RouteAdd(route); err != nil {
		return fmt.Errorf("make %s local: %w", serviceCIDR, err)
	}
	return nil
}

// proxyConn copies both ways between two connections and closes both when either side is done.
func proxyConn(a, b net.Conn) {
	var once sync.Once
	closeBoth := func() { once.Do(func() { a.Close(); b.Close() }) }
	go func() { _, _ = io.Copy(a, b); closeBoth() }()
	_, _ = io.Copy(b, a)
	closeBoth()
}

// serveForward accepts on ln and forwards every connection to target until ln is closed.
func serveForward(ln net.Listener, target func() string) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			backend := target()
			if backend == "" {
				conn.Close()
				return
			}
			upstream, err := net.Dial("tcp", backend)
			if err != nil {
				conn.Close()
				return
			}
			proxyConn(conn, upstream)
		}()
	}
}
