// Package host runs k8s.io/cloud-provider's service controller over a given cloud the way the
// cloud-controller-manager does (app/controllermanager.go and app/core.go of k8s.io/cloud-provider):
//
//   - one rest config for every client, with the manager's content type, no compression, and the
//     --kube-api-qps / --kube-api-burst limits; each client (shared informers, the service controller,
//     the cloud) gets its own rate limiter, as clientbuilder.SimpleControllerClientBuilder gives them;
//   - one shared informer factory whose resync is the manager's (--min-resync-period, 12 h, times a
//     random factor between 1 and 2);
//   - cloud.Initialize, then SetInformers for clouds that use informers;
//   - servicecontroller.New with the factory's Service and Node informers, Run in a goroutine, and only
//     then the factory started. Starting the factory after New matters: New registers the Node and
//     Service event handlers with their own resync periods (100 s and 30 s), which a started informer
//     would stretch to the factory's, and the Node informer is only created (and so only started) by
//     New asking for it.
//
// No leader election, no secure serving, no other controller: the benchmark runs one replica and
// measures this controller alone. /metrics serves the legacy registry (the service controller's own
// metrics, client-go's request metrics, and whatever the cloud registers there).
package host

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/clientcmd"
	cloudprovider "k8s.io/cloud-provider"
	servicecontroller "k8s.io/cloud-provider/controllers/service"
	"k8s.io/component-base/featuregate"
	"k8s.io/component-base/metrics/legacyregistry"
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go request metrics, as the manager loads them
	controllersmetrics "k8s.io/component-base/metrics/prometheus/controllers"
	"k8s.io/controller-manager/pkg/clientbuilder"
	"k8s.io/klog/v2"
)

// Options are the manager flags that matter to the service controller, with the manager's defaults.
type Options struct {
	Kubeconfig         string
	Workers            int
	QPS                float64
	Burst              int
	ContentType        string
	ClusterName        string
	MinResyncPeriod    time.Duration
	MetricsBindAddress string
}

// AddFlags registers the options on fs under the cloud-controller-manager's flag names.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file of the cluster (required)")
	fs.IntVar(&o.Workers, "concurrent-service-syncs", 1, "Services synced at the same time; also the node sync's parallelism")
	fs.Float64Var(&o.QPS, "kube-api-qps", 20, "queries per second to the apiserver, per client")
	fs.IntVar(&o.Burst, "kube-api-burst", 30, "burst of queries to the apiserver, per client")
	fs.StringVar(&o.ContentType, "kube-api-content-type", "application/vnd.kubernetes.protobuf", "content type of requests to the apiserver")
	fs.StringVar(&o.ClusterName, "cluster-name", "kubernetes", "the cluster name handed to the cloud")
	fs.DurationVar(&o.MinResyncPeriod, "min-resync-period", 12*time.Hour, "shared informers resync between this and twice this")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", "0", "host:port serving /metrics; 0 disables it")
}

// Validate names the flag that is wrong and what it needs.
func (o *Options) Validate() error {
	switch {
	case o.Kubeconfig == "":
		return errors.New("--kubeconfig is required")
	case o.Workers < 1:
		return fmt.Errorf("--concurrent-service-syncs=%d: must be at least 1", o.Workers)
	case o.QPS <= 0 || o.Burst < 1:
		return fmt.Errorf("--kube-api-qps=%v --kube-api-burst=%d: both must be positive", o.QPS, o.Burst)
	}
	return nil
}

// ParseFlags parses the command line into o (plus klog's flags and any registered by the caller on
// flag.CommandLine) and validates it; on a bad flag it prints the reason and exits 2.
func ParseFlags(o *Options) {
	klog.InitFlags(nil)
	o.AddFlags(flag.CommandLine)
	flag.Parse()
	if err := o.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(2)
	}
}

// Run runs the service controller over cloud until SIGTERM or SIGINT. A second signal exits at once.
func Run(o Options, cloud cloudprovider.Interface) error {
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	config, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig=%s: %w", o.Kubeconfig, err)
	}
	config.DisableCompression = true
	config.ContentType = o.ContentType
	config.QPS = float32(o.QPS)
	config.Burst = o.Burst
	builder := clientbuilder.SimpleControllerClientBuilder{ClientConfig: config}

	resync := time.Duration(float64(o.MinResyncPeriod) * (rand.Float64() + 1))
	factory := informers.NewSharedInformerFactory(builder.ClientOrDie("shared-informers"), resync)

	cloud.Initialize(builder, ctx.Done())
	if user, ok := cloud.(cloudprovider.InformerUser); ok {
		user.SetInformers(factory)
	}
	controller, err := servicecontroller.New(
		cloud,
		builder.ClientOrDie("service-controller"),
		factory.Core().V1().Services(),
		factory.Core().V1().Nodes(),
		o.ClusterName,
		featuregate.NewFeatureGate(), // the controller reads no gate
	)
	if err != nil {
		return fmt.Errorf("service controller: %w", err)
	}
	if err := serveMetrics(ctx, o.MetricsBindAddress); err != nil {
		return err
	}
	controllersmetrics.Register()
	go controller.Run(ctx, o.Workers, controllersmetrics.NewControllerManagerMetrics("cloud-controller-manager"))
	factory.Start(ctx.Done())
	klog.InfoS("service controller running", "workers", o.Workers, "qps", o.QPS, "burst", o.Burst, "clusterName", o.ClusterName)

	<-ctx.Done()
	cancel() // a second signal now ends the process the default way
	factory.Shutdown()
	return nil
}

func serveMetrics(ctx context.Context, address string) error {
	if address == "0" || address == "" {
		return nil
	}
	listener, err := net.Listen("tcp", address)
	if err != nil {
		return fmt.Errorf("--metrics-bind-address=%s: %w", address, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", legacyregistry.Handler())
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = server.Close()
	}()
	go func() {
		if err := server.Serve(listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			klog.ErrorS(err, "metrics server stopped")
		}
	}()
	return nil
}
