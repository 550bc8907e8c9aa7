package main

import (
	"context"
	"net"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	cloudprovider "k8s.io/cloud-provider"
	"k8s.io/cloud-provider/fake"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

var fakeCalls = metrics.NewCounterVec(
	&metrics.CounterOpts{
		Name:           "fake_cloud_calls_total",
		Help:           "Calls the fake cloud recorded, by its name for them (create, update, delete, get-zone).",
		StabilityLevel: metrics.ALPHA,
	},
	[]string{"call"},
)

func init() {
	legacyregistry.MustRegister(fakeCalls)
}

// serializedFake is fake.Cloud whose LoadBalancer goes through serializedBalancers.
type serializedFake struct {
	*fake.Cloud
	balancers *serializedBalancers
}

func newSerializedFake(latency time.Duration, externalIP net.IP) *serializedFake {
	// The mode the apiserver defaults an IP ingress to, so a status the fake returns compares equal to
	// the one stored and a sync with nothing new writes nothing.
	vip := v1.LoadBalancerIPModeVIP
	cloud := &fake.Cloud{
		ExternalIP:     externalIP,
		BalancerIPMode: &vip,
		Zone:           cloudprovider.Zone{FailureDomain: "bench-a", Region: "bench"},
		Balancers:      map[string]fake.Balancer{},
	}
	return &serializedFake{Cloud: cloud, balancers: &serializedBalancers{fake: cloud, latency: latency}}
}

func (c *serializedFake) LoadBalancer() (cloudprovider.LoadBalancer, bool) {
	return c.balancers, true
}

// serializedBalancers implements cloudprovider.LoadBalancer by calling the fake under one lock.
type serializedBalancers struct {
	mu      sync.Mutex
	fake    *fake.Cloud
	latency time.Duration
}

// call runs fn under the lock, counts and clears the calls the fake recorded, then sleeps the
// latency of those calls without the lock.
func (b *serializedBalancers) call(fn func()) {
	b.mu.Lock()
	fn()
	recorded := len(b.fake.Calls)
	for _, name := range b.fake.Calls {
		fakeCalls.WithLabelValues(name).Inc()
	}
	b.fake.Calls = b.fake.Calls[:0]
	b.fake.EnsureCalls = nil
	b.fake.UpdateCalls = nil
	b.mu.Unlock()
	time.Sleep(time.Duration(recorded) * b.latency)
}

func (b *serializedBalancers) GetLoadBalancer(ctx context.Context, clusterName string, service *v1.Service) (status *v1.LoadBalancerStatus, exists bool, err error) {
	b.call(func() {
		status, _, err = b.fake.GetLoadBalancer(ctx, clusterName, service)
		_, exists = b.fake.Balancers[b.fake.GetLoadBalancerName(ctx, clusterName, service)]
	})
	return status, exists, err
}

func (b *serializedBalancers) GetLoadBalancerName(ctx context.Context, clusterName string, service *v1.Service) string {
	return b.fake.GetLoadBalancerName(ctx, clusterName, service)
}

func (b *serializedBalancers) EnsureLoadBalancer(ctx context.Context, clusterName string, service *v1.Service, nodes []*v1.Node) (status *v1.LoadBalancerStatus, err error) {
	b.call(func() { status, err = b.fake.EnsureLoadBalancer(ctx, clusterName, service, nodes) })
	return status, err
}

func (b *serializedBalancers) UpdateLoadBalancer(ctx context.Context, clusterName string, service *v1.Service, nodes []*v1.Node) (err error) {
	b.call(func() {
		err = b.fake.UpdateLoadBalancer(ctx, clusterName, service, nodes)
		// The fake only logs an update; keep its load balancer's hosts as a cloud would.
		name := b.fake.GetLoadBalancerName(ctx, clusterName, service)
		if balancer, ok := b.fake.Balancers[name]; ok && err == nil {
			balancer.Hosts = nodes
			b.fake.Balancers[name] = balancer
		}
	})
	return err
}

func (b *serializedBalancers) EnsureLoadBalancerDeleted(ctx context.Context, clusterName string, service *v1.Service) (err error) {
	b.call(func() {
		err = b.fake.EnsureLoadBalancerDeleted(ctx, clusterName, service)
		if err == nil {
			delete(b.fake.Balancers, b.fake.GetLoadBalancerName(ctx, clusterName, service))
		}
	})
	return err
}
