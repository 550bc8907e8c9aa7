# The two commands a new checkout needs, on any machine with bash, make and a Node.js of any version
# (or npm able to fetch one): `make demo` and `make test`. Each first puts Node 24 on PATH when the
# machine's Node is older and installs the locked dependencies when they are missing or stale
# (scripts/with-deps.sh), then runs the npm script of the same name. Everything else they need
# (kube-apiserver, etcd, helm, moto) is built or installed on first use and cached.

.DEFAULT_GOAL := help
.PHONY: help demo test bench manifests deps

# Extra arguments for the npm script, e.g. `make demo ARGS="--provider aws"`.
ARGS ?=

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

demo: ## the demo: an embedded kube-apiserver, three nodes, a Service and its load balancer
	@bash scripts/with-deps.sh npm run demo -- $(ARGS)

test: ## every test tier: typecheck, lint, unit, integration, aws
	@bash scripts/with-deps.sh npm test

bench: ## the benchmarks (docs/benchmarks.md)
	@bash scripts/with-deps.sh npm run bench -- $(ARGS)

manifests: ## render deploy/ from the Helm chart in deploy/chart (helm is built on first use)
	@bash scripts/with-deps.sh bash -c 'node scripts/manifests.ts "$$(bash scripts/ensure-helm.sh)" --write'

deps: ## only the set-up: Node 24 when older, and the locked dependencies
	@bash scripts/with-deps.sh true
