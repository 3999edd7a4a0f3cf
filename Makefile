# netvirt.linux: `make lab` and `make test` do all their own setup on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV07 := .venv-pyroute2-0.7
VENV08 := .venv-pyroute2-0.8
# The user lane's controllers (ansible-core at its newest patch release, each on the oldest Python it
# runs on) and managed-node Pythons; .venv is the 2.19 controller. docs/install.md has the table.
ANSIBLE_220 := 2.20.10
ANSIBLE_221 := 2.21.5
VENV220 := .venv-ansible-2.20
VENV221 := .venv-ansible-2.21
NODE39 := .venv-node-py3.9
NODE313 := .venv-node-py3.13
BUILD := .build/ansible_collections/netvirt/linux
SANDBOX := tests/bin/sandbox
DEBIAN_PACKAGES := iproute2 nftables iputils-ping netcat-openbsd curl graphviz python3-venv
# Only the VM lane needs these (qemu for Debian stable's kernel); make lab does not install them.
VM_PACKAGES := qemu-system-x86 kmod busybox-static debootstrap e2fsprogs
# Only the fleet lane needs sshd: its hosts run their own, never the machine's service.
# Packages are installed with a policy-rc.d that forbids starting services (Debian's own
# mechanism), so installing openssh-server never starts an sshd on this machine's network.
# sudo is for the fleet's non-root logins (tests/fleet/fleet.py adds their rules inside the hosts only).
FLEET_PACKAGES := openssh-server openssh-client sudo
# The user lane's "discovered" interpreter is Debian's /usr/bin/python3: it gets pyroute2 the way the
# managed_node role would give it (Debian's package, 0.7.2 on Debian 12), not from a venv.
USER_PACKAGES := python3-pyroute2
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup debian vm-debian fleet-debian user-debian venv user-venv build user user-2.19 user-2.20 user-2.21 sanity-2.20 sanity-2.21 lab lab-down test unit sanity lint tarball kernel kernel-0.7 kernel-0.8 kill-test integration integration-0.7 lab-test molecule docs fleet vm vm-full bench bench-probe bench-tc vm-boot

help:
	@echo "make lab       build, verify and show the default lab on this host (namespaces only)"
	@echo "make lab-down  remove the lab; the host is left exactly as it was"
	@echo "make test      run every test, each inside a throwaway network sandbox"

setup: debian venv build

debian vm-debian fleet-debian user-debian: PACKAGES = $(if $(filter vm-debian,$@),$(VM_PACKAGES),$(if $(filter fleet-debian,$@),$(FLEET_PACKAGES),$(if $(filter user-debian,$@),$(USER_PACKAGES),$(DEBIAN_PACKAGES))))
debian vm-debian fleet-debian user-debian:
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

# pyenv has every Python the matrix needs on these machines; a missing one is named, not skipped.
pyenv_python = $(or $(shell p=$$(pyenv prefix $(1) 2>/dev/null) && [ -x $$p/bin/python ] && echo $$p/bin/python),\
  $(error the user lane needs Python $(1) (pyenv install $(1)), which this machine lacks))

$(VENV220)/.done:
	$(call pyenv_python,3.12) -m venv $(VENV220)
	$(VENV220)/bin/pip install -q ansible-core==$(ANSIBLE_220) pytest
	touch $@

$(VENV221)/.done:
	$(call pyenv_python,3.13) -m venv $(VENV221)
	$(VENV221)/bin/pip install -q ansible-core==$(ANSIBLE_221) pytest
	touch $@

# Managed nodes: Python 3.9 (the oldest that 2.20 and 2.21 target, RHEL 9's) with pyroute2 0.8.1, and
# the newest Python with 0.9.7; Debian's Python with its 0.7.2 and .venv-pyroute2-0.7 cover 0.7.2.
$(NODE39)/.done:
	$(call pyenv_python,3.9) -m venv $(NODE39)
	$(NODE39)/bin/pip install -q pyroute2==0.8.1
	touch $@

$(NODE313)/.done:
	$(call pyenv_python,3.13) -m venv $(NODE313)
	$(NODE313)/bin/pip install -q pyroute2==0.9.7
	touch $@

user-venv: $(VENV220)/.done $(VENV221)/.done $(NODE39)/.done $(NODE313)/.done

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

# One after another, each timed (tests/bin/lanes prints where the time went).
TEST_LANES := unit sanity sanity-2.20 sanity-2.21 lint tarball kernel kernel-0.7 kernel-0.8 integration \
  lab-test molecule docs user fleet vm vm-boot
test: setup
	MAKE=$(MAKE) tests/bin/lanes $(TEST_LANES)

unit:
	cd $(BUILD) && $(CURDIR)/$(VENV)/bin/python -m pytest -q tests/unit

kernel:
	cd $(BUILD) && $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV)/bin/python -m pytest -q tests/kernel

# The pyroute2 lanes run the kill test (tests/kernel/test_kill.py) smaller: what it proves is the
# engine's, which the main lane runs at its default size; `make kill-test` runs the issue's full size.
KILL_TEST_SMALL := NETVIRT_KILL_NAMESPACES=40 NETVIRT_KILL_TRIALS=6 NETVIRT_SIGNAL_TRIALS=2

# The hostile-input cases prove validation, above the netlink path: the main lane runs them all, and
# this one the rest of test_hostile.py (what reaches the kernel: link-local addresses, default routes).
kernel-0.7:
	cd $(BUILD) && $(KILL_TEST_SMALL) $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV07)/bin/python -m pytest -q tests/kernel \
	  --deselect tests/kernel/test_hostile.py::test_hostile_input_is_refused_by_name_and_changes_nothing

# pyroute2 0.8, the last release before its asyncio core, takes the same IPRoute path as 0.7: the
# kill test, which proves the engine above that path, runs under 0.9 and 0.7.
kernel-0.8:
	cd $(BUILD) && $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV08)/bin/python -m pytest -q tests/kernel \
	  --deselect tests/kernel/test_kill.py --deselect tests/kernel/test_hostile.py

# Issue 17's proof at its size: 300 namespaces, 20 SIGKILLs and 5 SIGTERM/SIGINT at points drawn from
# seed NETVIRT_KILL_SEED (19 unless set; a failure names its seed, trial and point). Not part of make test.
kill-test: build
	cd $(BUILD) && NETVIRT_KILL_NAMESPACES=300 NETVIRT_KILL_TRIALS=20 NETVIRT_SIGNAL_TRIALS=5 \
	  $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV)/bin/python -m pytest -q tests/kernel/test_kill.py

# Under pyroute2 0.9 (make test's 60 minutes): the user lane runs the modules through ansible-playbook
# under Debian's 0.7.2 and 0.8.1, and the kernel lanes the engine under all three.
# `make integration-0.7` runs the module targets under 0.7.2 too.
integration:
	$(SANDBOX) tests/integration/run $(CURDIR)/$(VENV)/bin/python

integration-0.7:
	$(SANDBOX) tests/integration/run $(CURDIR)/$(VENV07)/bin/python modules

lab-test:
	$(SANDBOX) tests/lab/run

# One scenario per role and one for playbooks/lab.yml, each in a sandbox of its own.
molecule:
	tests/molecule/run

# The collection as users run it: built, installed into a repo of their own, the interpreter set each
# way users set it. Each way runs on one or two controllers: the two commonest (discovered, and
# ansible.cfg's, issue 14's) on 2.19 and 2.20, the environment's and the inventory's on 2.21.
user: user-2.19 user-2.20 user-2.21

user-2.19: user-debian venv user-venv
	$(SANDBOX) tests/user/run $(CURDIR)/$(VENV)/bin discovered=/usr/bin/python3 cfg=$(CURDIR)/$(NODE39)/bin/python

user-2.20: user-debian venv user-venv
	$(SANDBOX) tests/user/run $(CURDIR)/$(VENV220)/bin discovered=/usr/bin/python3 cfg=$(CURDIR)/$(NODE39)/bin/python

user-2.21: user-debian venv user-venv
	$(SANDBOX) tests/user/run $(CURDIR)/$(VENV221)/bin env=$(CURDIR)/$(NODE313)/bin/python inventory=$(CURDIR)/$(VENV07)/bin/python

# Several hosts over real SSH: the vxlan_overlay role, failures, growth, managed-node dependencies.
fleet: fleet-debian user-debian
	tests/fleet/run

# Every playbook in docs/guide.md (the VM lane runs the ones this kernel cannot).
docs:
	$(VENV)/bin/python tests/docs/run.py

# Debian stable's kernel in qemu: the kinds this machine's kernel lacks, and the kernel-facing part of
# the kernel suite. `make vm-full` runs the whole suite there (about an hour; not part of make test).
vm: vm-debian
	tests/vm/run $(CURDIR)/$(VENV)/bin/python

vm-full: setup vm-debian
	tests/vm/run $(CURDIR)/$(VENV)/bin/python full

# A real boot with systemd as init restores a persisted lab (a Debian root made with debootstrap, as a
# disk image, under the VM lane's kernel; it fetches that kernel first when make vm has not).
vm-boot: vm-debian user-debian build
	[ -f .vm/version ] || tests/vm/run $(CURDIR)/$(VENV)/bin/python
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH tests/vm/boot

# ansible-test bootstraps pip in its test venvs with a script from its own file
# server, which this network cannot reach; tests/bin/get-pip-offline.py does the
# same from PyPI and is put where ansible-test looks for its cached copy.
# $(call sanity_in,VENV,PYTHON VERSION): ansible-test of that venv's ansible-core, on that Python.
define sanity_in
	pipver=$$($(1)/bin/python -c "import os, re, ansible_test; \
	  p = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py'); \
	  print(re.search(r\"pip='([0-9.]+)'\", open(p).read()).group(1).replace('.', '_'))"); \
	mkdir -p $$HOME/.ansible/test/cache; \
	cp tests/bin/get-pip-offline.py $$HOME/.ansible/test/cache/get_pip_$$pipver.py
	cd $(BUILD) && PATH=$(CURDIR)/$(1)/bin:$$PATH ansible-test sanity --python $(2) --color no
endef

sanity:
	$(call sanity_in,$(VENV),3.11)

# The newer controllers' sanity (each its own ansible-test, on the Python it runs on).
sanity-2.20: user-venv
	$(call sanity_in,$(VENV220),3.12)

sanity-2.21: user-venv
	$(call sanity_in,$(VENV221),3.13)

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
# BENCH_AGAINST=REV: time the collection as it was at git revision REV too, in the same rounds.
# One probe task against a shell loop of `ip netns exec ... ping`: 100 namespaces x 10 targets (not part of make test).
bench-probe: setup
	$(VENV)/bin/python bench/probe.py --repeat 3 100 10

bench-tc: setup
	$(VENV)/bin/python bench/tc.py --repeat 3 1000
	$(VENV)/bin/python bench/tc.py --repeat 3 1000 ingress

bench: setup
	$(VENV)/bin/python bench/bench.py --repeat 3 $(if $(BENCH_AGAINST),--against $(BENCH_AGAINST)) 10 100 1000
	$(VENV)/bin/python bench/bench.py --module-python $(CURDIR)/$(VENV07)/bin/python --repeat 3 $(if $(BENCH_AGAINST),--against $(BENCH_AGAINST)) 10 100 1000
