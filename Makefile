# minictr — demo, build, install, test.
PREFIX ?= /usr/local
# OS packages minictr drives: ip/bridge, iptables, nft, conntrack, unshare/nsenter/mount,
# the static busybox the default image is built from, the static tini --init bind-mounts, a C compiler for the shim
# and the resolver, uidmap (newuidmap/newgidmap), passt (pasta), slirp4netns and fuse-overlayfs (the overlay
# fallback) for rootless minictr; socat and iperf3 are for tests and bench,
# docker-registry (the reference registry, on 127.0.0.1) and skopeo seed and read images in the image tests;
# containerd (ctr, with runc), podman and the reference CNI plugins (host-local, bridge, portmap) drive
# bin/minictr-cni in its tests and bench; the docker CLI (docker.io) and python3-docker drive `minictr serve`;
# musl-tools builds the static musl lookup the DNS test runs (musl's resolver, as Alpine's).
APT_PACKAGES := iproute2 iptables nftables conntrack util-linux mount busybox-static kmod procps tini gcc libc6-dev uidmap passt slirp4netns fuse-overlayfs
TEST_PACKAGES := socat iperf3 docker-registry skopeo tmux containerd runc podman containernetworking-plugins docker.io python3-docker docker-compose musl-tools

.PHONY: all build deps test-deps demo install uninstall test test-unit test-integration bench clean docs-api

all: build

node_modules: package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

# tsc type-checks and compiles (tests import dist/src); esbuild then bundles the CLI into one
# CommonJS file, which starts about 100 ms faster than loading ~150 separate modules, and which
# bin/minictr compiles with V8's code cache: the first run below writes dist/minictr.cache.
# The CNI plugin (bin/minictr-cni) is bundled the same way into dist/minictr-cni.cjs, and the port
# relay alone into dist/minictr-relay.cjs (a relay process starts faster and smaller without the CLI).
build: node_modules dist/minictr-shim dist/minictr-dns
	npx tsc -p tsconfig.json
	npx esbuild dist/src/cli/main.js --bundle --platform=node --format=cjs --target=node20 \
	  --outfile=dist/minictr.cjs --log-level=warning \
	  --define:import.meta.url=__minictrUrl --banner:js="var __minictrUrl = require('node:url').pathToFileURL(__filename).href;"
	npx esbuild dist/src/cni/main.js --bundle --platform=node --format=cjs --target=node20 \
	  --outfile=dist/minictr-cni.cjs --log-level=warning \
	  --define:import.meta.url=__minictrUrl --banner:js="var __minictrUrl = require('node:url').pathToFileURL(__filename).href;"
	npx esbuild dist/src/network/port-relay-main.js --bundle --platform=node --format=cjs --target=node20 \
	  --outfile=dist/minictr-relay.cjs --log-level=warning
	rm -f dist/minictr.cache dist/minictr.mjs
	node bin/minictr --version >/dev/null

# The shim that holds each container's console and writes its json-file log (C: a pty needs
# ioctls Node lacks, and it stays ~1 MB per container).
dist/minictr-shim: src/shim/minictr-shim.c
	@mkdir -p dist
	$(CC) -O2 -Wall -Wextra -o $@ $<

# The embedded DNS of user-defined networks (C: one small process for a state root's networks,
# which reloads its names without closing its sockets; see the file's head).
dist/minictr-dns: src/dns/minictr-dns.c
	@mkdir -p dist
	$(CC) -O2 -Wall -Wextra -o $@ $<

# Installs only what is missing; `make install` needs APT_PACKAGES, `make test` also TEST_PACKAGES.
define apt_install
	@if command -v apt-get >/dev/null 2>&1; then \
	  missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	else echo "not a Debian/Ubuntu host: install $(1) yourself" >&2; fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))

# The tests start their own registry on 127.0.0.1, their own containerd and minictr serve in the sandbox; the
# packaged services are not wanted running.
test-deps: deps
	$(call apt_install,$(TEST_PACKAGES))
	@if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry containerd docker docker.socket >/dev/null 2>&1 || true; fi

# The front door: what is missing, the build, then one container with a published port, shown
# step by step and removed (bin/minictr-demo; DEMO_PORT=N for another host port than 5005).
demo: deps build
	@./bin/minictr-demo

install: deps build
	ln -sf $(CURDIR)/bin/minictr $(PREFIX)/bin/minictr
	@echo "minictr installed: $(PREFIX)/bin/minictr -> $(CURDIR)/bin/minictr"

uninstall:
	rm -f $(PREFIX)/bin/minictr

test-unit: build
	node --test dist/test/unit/

# Integration tests need root; they run minictr inside throwaway network namespaces.
test-integration: build test-deps
	node --test --test-concurrency=1 dist/test/integration/

test: build test-deps
	node --test --test-concurrency=1 dist/test/unit/ dist/test/integration/

# docs/docker-api.md: the docker commands against minictr serve and dockerd, side by side.
docs-api: build test-deps
	MINICTR_WRITE_COMPAT=1 node --test dist/test/integration/docker-compat.test.js

bench: build test-deps
	node dist/bench/run.js

clean:
	rm -rf dist
