// Command service-controller is the reference the benchmarks compare lb-provisioner with:
// k8s.io/cloud-provider's service controller, wired as the cloud-controller-manager wires it (see
// internal/host), over k8s.io/cloud-provider/fake's cloud.
//
//	service-controller --kubeconfig=<file> [--concurrent-service-syncs=1] [--kube-api-qps=20]
//	  [--kube-api-burst=30] [--cluster-name=kubernetes] [--cloud-latency=0s] [--metrics-bind-address=0]
//
// The fake cloud is used as it is, behind three adjustments a benchmark needs (cloud.go):
//   - it is not safe for concurrent use (EnsureLoadBalancer writes its Balancers map unlocked), so
//     every call into it holds one lock;
//   - its per-call delay (RequestDelay) would then hold that lock, so --cloud-latency is slept after
//     the call, outside the lock, once per call the fake recorded (EnsureLoadBalancer records two:
//     "create" and "get-zone"), so concurrent workers overlap as they would against a real cloud;
//   - its spy logs (Calls, EnsureCalls, UpdateCalls) grow without bound; they are counted into the
//     metric fake_cloud_calls_total{call} and cleared, while Balancers, the fake's load balancers, is
//     kept as a cloud's state (and answers GetLoadBalancer, which the fake itself answers with a fixed
//     Exists flag).
package main

import (
	"flag"
	"net"

	"k8s.io/klog/v2"

	"lb-provisioner/bench/upstream/internal/host"
)

func main() {
	var options host.Options
	latency := flag.Duration("cloud-latency", 0, "delay of every fake cloud call")
	host.ParseFlags(&options)
	if *latency < 0 {
		klog.Exitf("--cloud-latency=%s: must not be negative", *latency)
	}
	cloud := newSerializedFake(*latency, net.ParseIP("192.0.2.10"))
	if err := host.Run(options, cloud); err != nil {
		klog.Exit(err)
	}
}
