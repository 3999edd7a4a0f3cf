# netvirt.linux: `make lab` and `make test` do all their own setup on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VENV07 := .venv-pyroute2-0.7
BUILD := .build/ansible_collections/netvirt/linux
SANDBOX := tests/bin/sandbox
DEBIAN_PACKAGES := iproute2 nftables iputils-ping netcat-openbsd curl graphviz python3-venv
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.build
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup debian venv build lab lab-down test unit sanity lint kernel kernel-0.7 integration lab-test

help:
	@echo "make lab       build, verify and show the default lab on this host (namespaces only)"
	@echo "make lab-down  remove the lab; the host is left exactly as it was"
	@echo "make test      run every test, each inside a throwaway network sandbox"

setup: debian venv build

debian:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.done: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

$(VENV07)/.done: tests/requirements-pyroute2-0.7.txt
	$(PYTHON) -m venv $(VENV07)
	$(VENV07)/bin/pip install -q -r tests/requirements-pyroute2-0.7.txt
	touch $@

venv: $(VENV)/.done $(VENV07)/.done

# The collection must sit at ansible_collections/netvirt/linux for Ansible and
# ansible-test; a copy of the tracked files (not a link: ansible-test follows
# real paths) is made fresh for every run.
build:
	rm -rf .build && mkdir -p $(BUILD)
	git ls-files -co --exclude-standard -z | tar --null -cf - -T - | tar -xf - -C $(BUILD)

lab: setup
	ansible-playbook playbooks/lab.yml

lab-down: setup
	ansible-playbook playbooks/lab.yml -e lab_state=absent

test: setup unit sanity lint kernel kernel-0.7 integration lab-test
	@echo "make test: every suite passed"

unit:
	cd $(BUILD) && $(CURDIR)/$(VENV)/bin/python -m pytest -q tests/unit

kernel:
	cd $(BUILD) && $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV)/bin/python -m pytest -q tests/kernel

kernel-0.7:
	cd $(BUILD) && $(CURDIR)/$(SANDBOX) $(CURDIR)/$(VENV07)/bin/python -m pytest -q tests/kernel

integration:
	$(SANDBOX) tests/integration/run $(CURDIR)/$(VENV)/bin/python
	$(SANDBOX) tests/integration/run $(CURDIR)/$(VENV07)/bin/python

lab-test:
	$(SANDBOX) tests/lab/run

sanity:
	cd $(BUILD) && ansible-test sanity --python 3.11 --color no \
	  --exclude tests/bin/ --exclude tests/integration/run --exclude tests/lab/run

lint:
	ansible-lint --profile production --offline playbooks/ tests/integration/
