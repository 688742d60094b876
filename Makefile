# podnet.netmodes - everything CI runs is `make test`; `make demo` builds a lab, prints who reaches whom and verifies it.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
PYTHON ?= python3
MODE ?= bridge
SCENARIOS ?= bridge hostgw hostgw-not-adjacent bgp-mesh bgp-rr underlay ipip-hostgw ipip-bgp
# Host side: podman + debootstrap build the lab, dpkg-dev indexes the lab's package source
# (dpkg-scanpackages); nftables, bird2 and the CNI plugins serve the kernel tests and `bird -p`.
APT_PACKAGES := podman runc debootstrap dpkg-dev containernetworking-plugins nftables bird2 iproute2 iputils-ping python3-venv
# The VM lab (lab/vmlab.py): QEMU in software emulation, qcow2 overlays, SSH to the guests.
VM_APT_PACKAGES := qemu-system-x86 qemu-utils openssh-client
COLLECTION_LINK := .collections/ansible_collections/podnet/netmodes

export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

.PHONY: help setup system venv link image demo demo-down test lint sanity unit kernel labtest vmlab molecule build clean

help:
	@echo "make demo [MODE=bridge|hostgw]  set up everything, build a lab, run site.yml, print the reachability matrix, verify (table, HTML heatmap in podnet-verify/MODE)"
	@echo "make test                      everything CI runs: lint, sanity, unit, kernel and molecule tests"
	@echo "make demo-down MODE=...        remove the demo lab"

setup: system venv link image

system:
	@if ! dpkg -s $(APT_PACKAGES) $(VM_APT_PACKAGES) >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(VM_APT_PACKAGES); fi
	@install -D -m 0644 lab/containers.conf /etc/containers/containers.conf.d/50-podnet-lab.conf

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

link:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn ../../.. $(COLLECTION_LINK)

# Bare-host image plus the package source the lab serves to it (.cache/lab-repo); rebuilt only when
# the package lists in lab/podnet_lab.py change.
image: system venv
	$(VENV)/bin/python lab/podnet_lab.py image

demo: setup
	$(VENV)/bin/python lab/podnet_lab.py up -i inventories/lab/$(MODE).yml
	ansible-playbook -i inventories/lab/$(MODE).yml site.yml
	ansible-playbook -i inventories/lab/$(MODE).yml playbooks/lab_pods.yml
	$(VENV)/bin/python lab/matrix.py -i inventories/lab/$(MODE).yml
	ansible-playbook -i inventories/lab/$(MODE).yml playbooks/verify.yml -e podnet_verify_dir=$(CURDIR)/podnet-verify/$(MODE)

demo-down: venv
	$(VENV)/bin/python lab/podnet_lab.py down -i inventories/lab/$(MODE).yml

test: setup lint sanity unit kernel labtest vmlab molecule

lint: venv link
	ansible-lint --offline --profile production
	antsibull-changelog lint
	antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

sanity: venv link
	tests/sanity.sh

unit: venv link
	pytest -q tests/unit

kernel: venv link system
	pytest -q tests/kernel

labtest: setup
	pytest -q tests/lab

# Boots the VM lab once (QEMU, own kernel with ipip) and proves its racks, router and tunnels with packets.
vmlab: setup
	pytest -q tests/vmlab

# Each scenario's wall time is printed: CI's budget is kept per scenario.
molecule: setup
	set -e; for scenario in $(SCENARIOS); do start=$$(date +%s); molecule test -s $$scenario; \
	  echo "molecule $$scenario: $$(( $$(date +%s) - start )) s"; done

build: venv
	ansible-galaxy collection build --force --output-path build

clean:
	rm -rf build .cache tests/output
