// Command aws-service-controller is the reference for AWS calls: the legacy AWS cloud provider
// (k8s.io/cloud-provider-aws, its v1 provider, the one aws-cloud-controller-manager runs) under
// k8s.io/cloud-provider's service controller, wired as the cloud-controller-manager wires it (see
// internal/host), and nothing else of the manager.
//
//	aws-service-controller --kubeconfig=<file> --cloud-config=<file> [host flags, see service-controller]
//
// The cloud config is the provider's own (gcfg): [Global] Region, VPC, SubnetID and
// KubernetesClusterID let it run off EC2 (no instance metadata), and [ServiceOverride "n"] sections
// point its EC2 and ELB clients at an emulator. Credentials come from the AWS SDK's environment.
package main

import (
	"flag"

	cloudprovider "k8s.io/cloud-provider"
	awsv1 "k8s.io/cloud-provider-aws/pkg/providers/v1"
	"k8s.io/klog/v2"

	"lb-provisioner/bench/upstream/internal/host"
)

func main() {
	var options host.Options
	cloudConfig := flag.String("cloud-config", "", "the AWS provider's cloud config file (required)")
	host.ParseFlags(&options)
	if *cloudConfig == "" {
		klog.Exit("--cloud-config is required")
	}
	cloud, err := cloudprovider.InitCloudProvider(awsv1.ProviderName, *cloudConfig)
	if err != nil {
		klog.Exitf("--cloud-config=%s: %v", *cloudConfig, err)
	}
	if !cloud.HasClusterID() {
		klog.Exitf("--cloud-config=%s: set KubernetesClusterID in [Global]", *cloudConfig)
	}
	if err := host.Run(options, cloud); err != nil {
		klog.Exit(err)
	}
}
