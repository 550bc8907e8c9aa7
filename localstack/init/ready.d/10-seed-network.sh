#!/bin/bash
# LocalStack ready hook: seeds the seed scenario's network (a VPC, public subnets in two zones, three
# instances) through localstack/seed-network.ts, i.e. the same seedAwsNetwork() the moto tier uses, so
# the two cannot drift. docker-compose.yml mounts this repository at /opt/lb-provisioner and a Node.js
# binary at /opt/node-runtime/node (LocalStack's image has no Node.js of its own).
set -euo pipefail

repo="${LBP_REPO_DIR:-/opt/lb-provisioner}"
node_bin="${LBP_NODE:-/opt/node-runtime/node}"
output="${LBP_SEED_OUTPUT:-/tmp/lb-provisioner-seed.json}"

if [[ ! -x "$node_bin" ]]; then
  echo "10-seed-network: no Node.js at $node_bin; start LocalStack with localstack/docker-compose.yml" >&2
  exit 1
fi
if [[ ! -d "$repo/node_modules/@aws-sdk/client-ec2" ]]; then
  echo "10-seed-network: $repo/node_modules is missing; run 'npm ci' in the repository first" >&2
  exit 1
fi

AWS_ENDPOINT_URL="${LBP_SEED_ENDPOINT:-http://localhost:4566}" \
AWS_REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}" \
AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" \
AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}" \
  "$node_bin" "$repo/localstack/seed-network.ts" >"$output"
echo "10-seed-network: seeded; ids in $output"
cat "$output"
