# netvirt.linux: `make lab` and `make test` do all their own setup on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV07 := .venv-pyroute2-0.7
VENV08 := .venv-pyroute2-0.8
BUILD := .build/ansible_collections/netvirt/linux
SANDBOX := tests/bin/sandbox
DEBIAN_PACKAGES := iproute2 nftables iputils-ping netcat-openbsd curl graphviz python3-venv
# Only the VM lane needs these (qemu for Debian stable's kernel); make lab does not install them.
VM_PACKAGES := qemu-system-x86 kmod busybox-static
# Only the fleet lane needs sshd: its hosts run their own, never the machine's service.
# Packages are installed with a policy-rc.d that forbids starting services (Debian's own
# mechanism), so installing openssh-server never starts an sshd on this machine's network.
# sudo is for the fleet's non-root logins (tests/fleet/fleet.py adds their rules inside the hosts only).
FLEET_PACKAGES := openssh-server openssh-client sudo
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup debian vm-debian fleet-debian venv build lab lab-down test unit sanity lint tarball kernel kernel-0.7 kernel-0.8 integration lab-test molecule docs fleet vm bench

help:
	@echo "make lab       build, verify and show the default lab on this host (namespaces only)"
	@echo "make lab-down  remove the lab; the host is left exactly as it was"
	@echo "make test      run every test, each inside a throwaway network sandbox"

setup: debian venv build

debian vm-debian fleet-debian: PACKAGES = $(if $(filter vm-debian,$@),$(VM_PACKAGES),$(if $(filter fleet-debian,$@),$(FLEET_PACKAGES),$(DEBIAN_PACKAGES)))
debian vm-debian fleet-debian:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  guard=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1; fi; \
	  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  then rc=0; else rc=$$?; fi; \
	  [ -z "$$guard" ] || rm -f /usr/sbin/policy-rc.d; \
	  exit $$rc; \
	fi

# `make lab` needs only the controller and pyroute2 (.venv/.lab); the test tools come on top
# of the same venv (.venv/.done) with the first `make test`.
$(VENV)/.lab: requirements-lab.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-lab.txt
	touch $@

$(VENV)/.done: requirements-dev.txt $(VENV)/.lab
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

$(VENV07)/.done: tests/requirements-pyroute2-0.7.txt
	$(PYTHON) -m venv $(VENV07)
	$(VENV07)/bin/pip install -q -r tests/requirements-pyroute2-0.7.txt
	touch $@

$(VENV08)/.done: tests/requirements-pyroute2-0.8.txt
	$(PYTHON) -m venv $(VENV08)
	$(VENV08)/bin/pip install -q -r tests/requirements-pyroute2-0.8.txt
	touch $@

venv: $(VENV)/.done $(VENV07)/.done $(VENV08)/.done

# The collection must sit at ansible_collections/netvirt/linux for Ansible and
# ansible-test; a copy of the tracked files (not a link: ansible-test follows
# real paths) is made fresh for every run.
build:
	rm -rf .build && mkdir -p $(BUILD)
	git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C $(BUILD)
	# ansible-test lists a collection's files with git, from the nearest repository up.
	cd $(BUILD) && git init -q && git add -A

lab: debian $(VENV)/.lab build
	ansible-playbook playbooks/lab.yml

lab-down: debian $(VENV)/.lab build
	ansible-playbook playbooks/lab.yml -e lab_state=absent

test: setup unit sanity lint tarball kernel kernel-0.7 kernel-0.8 integration lab-test molecule docs fleet vm
	@echo "make test: every suite passed"

unit:
	cd $(BUILD) && $(CURDIR)/$(VENV)/bin/python -m pytest -q tests/unit

kernel:
	cd $(BUILD) && $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV)/bin/python -m pytest -q tests/kernel

kernel-0.7:
	cd $(BUILD) && $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV07)/bin/python -m pytest -q tests/kernel

# pyroute2 0.8, the last release before its asyncio core, takes the same IPRoute path as 0.7.
kernel-0.8:
	cd $(BUILD) && $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV08)/bin/python -m pytest -q tests/kernel

integration:
	$(SANDBOX) tests/integration/run $(CURDIR)/$(VENV)/bin/python
	$(SANDBOX) tests/integration/run $(CURDIR)/$(VENV07)/bin/python

lab-test:
	$(SANDBOX) tests/lab/run

# One scenario per role and one for playbooks/lab.yml, each in a sandbox of its own.
molecule:
	tests/molecule/run

# Several hosts over real SSH: the vxlan_overlay role, failures, growth, managed-node dependencies.
fleet: fleet-debian
	tests/fleet/run

# Every playbook in docs/guide.md (the VM lane runs the ones this kernel cannot).
docs:
	$(VENV)/bin/python tests/docs/run.py

# Debian stable's kernel in qemu: the kinds this machine's kernel lacks, and the whole kernel suite.
vm: vm-debian
	tests/vm/run $(CURDIR)/$(VENV)/bin/python

# ansible-test bootstraps pip in its test venvs with a script from its own file
# server, which this network cannot reach; tests/bin/get-pip-offline.py does the
# same from PyPI and is put where ansible-test looks for its cached copy.
sanity:
	pipver=$$($(VENV)/bin/python -c "import os, re, ansible_test; \
	  p = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py'); \
	  print(re.search(r\"pip='([0-9.]+)'\", open(p).read()).group(1).replace('.', '_'))"); \
	mkdir -p $$HOME/.ansible/test/cache; \
	cp tests/bin/get-pip-offline.py $$HOME/.ansible/test/cache/get_pip_$$pipver.py
	cd $(BUILD) && ansible-test sanity --python 3.11 --color no

# The whole tree, as Galaxy's importer and a user's CI lint it (.ansible-lint keeps venvs and
# outputs out); then the changelog fragments and changelogs/changelog.yaml.
lint:
	ansible-lint --profile production --offline
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

# Build the tarball from this working checkout, venvs and all: it must hold only the collection.
tarball:
	$(VENV)/bin/python tests/tarball/run.py

# Speed and scale against the hand-written ip scripts (about half an hour; not part of `make test`).
bench: setup
	$(VENV)/bin/python bench/bench.py --repeat 3 10 100 1000
	$(VENV)/bin/python bench/bench.py --module-python $(CURDIR)/$(VENV07)/bin/python --repeat 3 10 100 1000
