# offloadctl: plain make, pkg-config, C11.
#   make                build build/offloadctl
#   make demo           install what is missing, build, run the demo
#   make check          install what is missing, build, run every test suite
#                       (not yet the VM labs: see tests/vm/README.md)
#   make check-quick    the same (kept for the inner loop once the labs join check)
#   make vmlab          the VM labs alone (tests/vm/README.md)
#   make bench          optimised build, benchmark against ethtool and the floor,
#                       watch and the wrappers (docs/bench.md; 20-30 minutes)
#   make docs           docs/advice.md from the advice knowledge base (advice/*.yaml)
#   make schemas        the word lists of facts/desired-state.schema.json from
#                       offloadctl names --json
#   make install        DESTDIR=... PREFIX=/usr (binary, man pages, units, udev rule,
#                       completion, /etc/offloadctl/offloadctl.yaml unless present)
#   make deb            a Debian package in build/deb/
#   make dist           the Ansible collection and the Puppet module tarballs in
#                       build/dist/ (make ansible-collection, make puppet-module)
#   SANITIZE=address,undefined   build with sanitizers (into build-san/)
#   V=1                 show the commands

PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
SYSCONFDIR ?= /etc
DESTDIR    ?=
# Where this system's systemd, udev and bash-completion look (pkg-config),
# with the usual places when their .pc files are not installed.
SYSTEMDUNITDIR ?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),/usr/lib/systemd/system)
UDEVRULESDIR   ?= $(or $(shell $(PKG_CONFIG) --variable=udevdir udev 2>/dev/null),/usr/lib/udev)/rules.d
TMPFILESDIR    ?= $(or $(shell $(PKG_CONFIG) --variable=tmpfilesdir systemd 2>/dev/null),/usr/lib/tmpfiles.d)
BASHCOMPDIR    ?= $(or $(shell $(PKG_CONFIG) --variable=completionsdir bash-completion 2>/dev/null),$(DATADIR)/bash-completion/completions)

VERSION := $(shell cat VERSION)
PKGS := libnl-3.0 libnl-genl-3.0 jansson yaml-0.1

ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build-san
endif

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wundef -Wvla -Wwrite-strings
# Includes name the layer ("model/plan.h"): agent/src is the include root;
# $(BUILD)/gen holds what the build generates (version.h, advice-table.c).
# -MMD -MP: each object depends on the headers it includes, nothing more.
override CPPFLAGS += -iquote agent/src -iquote $(BUILD)/gen -MMD -MP
override CFLAGS += -std=c11 $(WARNINGS) -D_GNU_SOURCE \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q :=
vecho := @true
else
Q := @
vecho := @echo
endif

# The agent's layers, one folder each (README.md "Layout"; tests/test_layers.py
# keeps the order): lib < model < backend, host < cli.
LAYERS := lib model backend host cli
SRCS := $(sort $(foreach l,$(LAYERS),$(wildcard agent/src/$(l)/*.c)))
# The advice knowledge base (docs/advice.md): advice/*.yaml, turned into a C
# table at build time so the agent carries the advice of its own version.
ADVICE_SRCS := $(sort $(wildcard advice/*.yaml))
OBJS := $(SRCS:agent/src/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/advice-table.o
# Every layer but the command line (cli/): what unit tests link.
LIB_OBJS := $(filter-out $(BUILD)/obj/cli/%,$(OBJS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%)

.PHONY: all deps demo check test unit install uninstall deb clean format docs pkg-config-check

all: $(BUILD)/offloadctl

# A missing library is said by name, with how to get it, before any
# compiler error about a header it would have provided.
pkg-config-check:
	@command -v $(PKG_CONFIG) >/dev/null 2>&1 || { \
		echo "offloadctl: '$(PKG_CONFIG)' not found; install it: scripts/install-deps build" >&2; \
		exit 1; }
	@missing=""; for p in $(PKGS); do $(PKG_CONFIG) --exists $$p || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "offloadctl: pkg-config cannot find:$$missing" >&2; \
		echo "offloadctl: install the development packages: scripts/install-deps build" >&2; \
		echo "offloadctl: (Debian: libnl-3-dev libnl-genl-3-dev libjansson-dev libyaml-dev)" >&2; \
		exit 1; \
	fi

# The version, in one generated place: VERSION becomes $(BUILD)/gen/version.h,
# and only the files that print it include it.
$(BUILD)/gen/version.h: VERSION
	@mkdir -p $(@D)
	$(vecho) "  GEN     $@"
	$(Q)printf '/* Generated from VERSION by the Makefile: do not edit. */\n#define OFFLOADCTL_VERSION "%s"\n' \
		"$(VERSION)" > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: agent/src/%.c | pkg-config-check $(BUILD)/gen/version.h
	@mkdir -p $(@D)
	$(vecho) "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/advice-table.c: $(ADVICE_SRCS) scripts/advice-gen.py
	@mkdir -p $(@D)
	$(vecho) "  GEN     $@"
	$(Q)$(PYTHON) scripts/advice-gen.py --c $@ $(ADVICE_SRCS)

$(BUILD)/obj/advice-table.o: $(BUILD)/gen/advice-table.c | pkg-config-check
	@mkdir -p $(@D)
	$(vecho) "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The word lists of facts/desired-state.schema.json come from the agent's
# vocabulary (offloadctl names --json); tests/test_schema_desired.py fails
# when the schema is out of date.
.PHONY: schemas
schemas: $(BUILD)/offloadctl
	$(Q)$(PYTHON) scripts/schema-gen.py $(BUILD)/offloadctl

# docs/advice.md is generated from the knowledge base; tests/test_advice.py
# fails when it is out of date.
docs: docs/advice.md
docs/advice.md: $(ADVICE_SRCS) scripts/advice-gen.py
	$(vecho) "  GEN     $@"
	$(Q)$(PYTHON) scripts/advice-gen.py --markdown $@ $(ADVICE_SRCS)

$(BUILD)/offloadctl: $(OBJS)
	$(vecho) "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(@D)
	$(vecho) "  CC      $@"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

unit: $(UNIT_BINS)

deps:
	@scripts/install-deps check

demo:
	@scripts/install-deps demo
	@$(MAKE) --no-print-directory all
	@scripts/demo $(BUILD)/offloadctl

# The test command of README.md: every suite, the VM labs included, one
# summary line at the end.  The agent-facing suites run again against
# build-san/ (scripts/run-tests, SAN_OFFLOADCTL; tests/vm is not in
# SAN_TESTS); with SANITIZE=... every suite runs against build-san/.
# VMLAB=1: scripts/run-tests starts the Xen lab (tests/vm/test_vm_xen.py)
# beside the other suites and runs the Linux lab (test_vm_linux.py, which
# times hot-plug and drift against 2 s) alone after them
# (tests/vm/README.md).  check-quick is the same without the labs.
check: check-build
	@OFFLOADCTL=$(CHECK_AGENT) SANITIZED_AGENT=$(CURDIR)/build-san/offloadctl \
		UNIT_DIR=$(CURDIR)/$(BUILD)/unit $(CHECK_SAN) PYTHON=$(PYTHON) VMLAB=$(if $(TESTS),0,1) \
		scripts/run-tests $(or $(TESTS),tests --ignore=tests/vm)

check-quick: check-build
	@OFFLOADCTL=$(CHECK_AGENT) SANITIZED_AGENT=$(CURDIR)/build-san/offloadctl \
		UNIT_DIR=$(CURDIR)/$(BUILD)/unit $(CHECK_SAN) PYTHON=$(PYTHON) \
		scripts/run-tests $(or $(TESTS),tests --ignore=tests/vm)

check-build:
	@scripts/install-deps check
	@$(MAKE) --no-print-directory all unit
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all unit

vmlab:
	@scripts/install-deps check
	@$(MAKE) --no-print-directory all
	@OFFLOADCTL=$(CURDIR)/$(BUILD)/offloadctl PYTHON=$(PYTHON) scripts/run-tests $(or $(TESTS),tests/vm)

.PHONY: check-quick check-build vmlab

test: check

# Benchmark against ethtool (bench/bench.py, docs/bench.md): an optimised
# build of its own, N veths in a network namespace.  BENCH_ARGS passes
# options, e.g. BENCH_ARGS='--sizes 10,100,1000 --runs 5'.
# bench/floor.c is the floor: the same netlink requests as each command,
# the replies read and not parsed (docs/bench.md).
.PHONY: bench
FLOOR := build/bench/floor
bench:
	@$(MAKE) --no-print-directory BUILD=build/bench SANITIZE= CFLAGS='-O2 -g' all
	@$(MAKE) --no-print-directory $(FLOOR)
	@$(PYTHON) bench/bench.py --offloadctl build/bench/offloadctl --floor $(FLOOR) \
		--json build/bench/results.json --markdown build/bench/results.md $(BENCH_ARGS)

$(FLOOR): bench/floor.c
	@mkdir -p $(@D)
	$(vecho) "  CC      $@"
	$(Q)$(CC) -O2 -g -std=c11 -D_GNU_SOURCE $(WARNINGS) \
		$(shell $(PKG_CONFIG) --cflags libnl-3.0 libnl-genl-3.0 2>/dev/null) -o $@ $< \
		$(shell $(PKG_CONFIG) --libs libnl-3.0 libnl-genl-3.0 2>/dev/null)

install: all
	install -D -m 0755 $(BUILD)/offloadctl $(DESTDIR)$(SBINDIR)/offloadctl
	install -D -m 0644 agent/man/offloadctl.8 $(DESTDIR)$(MANDIR)/man8/offloadctl.8
	install -D -m 0644 agent/man/offloadctl.yaml.5 $(DESTDIR)$(MANDIR)/man5/offloadctl.yaml.5
	install -D -m 0644 docs/advice.md $(DESTDIR)$(DATADIR)/offloadctl/advice.md
	install -D -m 0644 facts/facts.schema.json $(DESTDIR)$(DATADIR)/offloadctl/facts.schema.json
	install -D -m 0644 facts/desired-state.schema.json $(DESTDIR)$(DATADIR)/offloadctl/desired-state.schema.json
	@# One fact adapter for facter and Ansible; it picks its format by the
	@# name it runs under, so it is installed once and named twice.
	install -D -m 0755 facts/offloadctl-fact $(DESTDIR)$(DATADIR)/offloadctl/offloadctl-fact
	ln -sf offloadctl-fact $(DESTDIR)$(DATADIR)/offloadctl/offloadctl.fact
	ln -sf offloadctl-fact $(DESTDIR)$(DATADIR)/offloadctl/facter-offloadctl
	@# The units name the program where SBINDIR put it.
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in offloadctl-watch.service offloadctl-boot.service \
		offloadctl-metrics.service offloadctl-metrics.timer; do \
		sed 's|/usr/sbin/offloadctl|$(SBINDIR)/offloadctl|g' systemd/$$u > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	install -d $(DESTDIR)$(UDEVRULESDIR)
	sed 's|/usr/sbin/offloadctl|$(SBINDIR)/offloadctl|g' systemd/80-offloadctl.rules \
		> $(DESTDIR)$(UDEVRULESDIR)/80-offloadctl.rules
	chmod 0644 $(DESTDIR)$(UDEVRULESDIR)/80-offloadctl.rules
	install -D -m 0644 systemd/offloadctl.tmpfiles $(DESTDIR)$(TMPFILESDIR)/offloadctl.conf
	install -D -m 0644 completion/offloadctl.bash $(DESTDIR)$(BASHCOMPDIR)/offloadctl
	@# conf.d/ is where wrappers and admins drop files: the package owns it.
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/offloadctl/conf.d
	@# The configuration is the operator's: never overwrite an existing one.
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/offloadctl/offloadctl.yaml ]; then \
		echo "  keeping $(DESTDIR)$(SYSCONFDIR)/offloadctl/offloadctl.yaml"; \
	else \
		echo "install -D -m 0644 examples/offloadctl.yaml $(DESTDIR)$(SYSCONFDIR)/offloadctl/offloadctl.yaml"; \
		install -D -m 0644 examples/offloadctl.yaml $(DESTDIR)$(SYSCONFDIR)/offloadctl/offloadctl.yaml; \
	fi

# Leaves /etc/offloadctl alone: it is configuration.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/offloadctl $(DESTDIR)$(MANDIR)/man8/offloadctl.8 \
		$(DESTDIR)$(MANDIR)/man5/offloadctl.yaml.5
	rm -rf $(DESTDIR)$(DATADIR)/offloadctl
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/offloadctl-watch.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/offloadctl-boot.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/offloadctl-metrics.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/offloadctl-metrics.timer \
		$(DESTDIR)$(UDEVRULESDIR)/80-offloadctl.rules \
		$(DESTDIR)$(TMPFILESDIR)/offloadctl.conf \
		$(DESTDIR)$(BASHCOMPDIR)/offloadctl

# A Debian package from this tree (tracked or not, build outputs aside),
# built in a copy under $(BUILD)/deb so nothing is written outside the tree:
# $(BUILD)/deb/offloadctl_$(VERSION)_ARCH.deb.
DEB_DIR := $(BUILD)/deb
deb:
	@rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/offloadctl-$(VERSION)
	@tar -cf - --exclude=./build --exclude='./build-*' --exclude=./.git \
		--exclude=__pycache__ --exclude=.pytest_cache . | tar -C $(DEB_DIR)/offloadctl-$(VERSION) -xf -
	cd $(DEB_DIR)/offloadctl-$(VERSION) && dpkg-buildpackage -us -uc -b -j$(or $(JOBS),$(shell nproc))
	@ls $(DEB_DIR)/*.deb

# Where users get the wrappers (issue 17): an Ansible collection and a
# Puppet module release, into $(DIST).
#   make ansible-collection  $(DIST)/offloadctl-offloadctl-$(VERSION).tar.gz: the
#                            collection offloadctl.offloadctl, assembled from
#                            collection/ (galaxy.yml, README, meta), the role
#                            roles/ansible and its module (one copy of each)
#   make puppet-module       $(DIST)/offloadctl-offloadctl-$(VERSION).tar.gz is the
#                            collection's name too, so the module goes to
#                            $(DIST)/puppet/offloadctl-offloadctl-$(VERSION).tar.gz
#   make dist                both
DIST           := build/dist
COLLECTION_DIR := build/collection/ansible_collections/offloadctl/offloadctl
COLLECTION_TGZ := $(DIST)/offloadctl-offloadctl-$(VERSION).tar.gz
PUPPET_TGZ     := $(DIST)/puppet/offloadctl-offloadctl-$(VERSION).tar.gz

.PHONY: ansible-collection puppet-module dist
ansible-collection:
	@rm -rf $(COLLECTION_DIR) $(COLLECTION_TGZ) && mkdir -p $(COLLECTION_DIR)/plugins/modules \
		$(COLLECTION_DIR)/roles/offloadctl $(DIST)
	@cp -r collection/. $(COLLECTION_DIR)/
	@cp roles/ansible/LICENSE $(COLLECTION_DIR)/LICENSE
	@cp roles/ansible/library/offloadctl_state.py $(COLLECTION_DIR)/plugins/modules/
	@# The role without its library/: in the collection the module is a plugin.
	@# -h: files/offloadctl.fact is a link to the one fact adapter, facts/.
	@tar -C roles/ansible -h --exclude=./library --exclude=./.ansible-lint --exclude=./.yamllint \
		--exclude=__pycache__ --exclude=.cache -cf - . | tar -C $(COLLECTION_DIR)/roles/offloadctl -xf -
	@grep -q '^version: $(VERSION)$$' $(COLLECTION_DIR)/galaxy.yml || \
		{ echo "collection/galaxy.yml: version is not $(VERSION) (VERSION)" >&2; exit 1; }
	ansible-galaxy collection build --force --output-path $(DIST) $(COLLECTION_DIR)

puppet-module:
	@$(PYTHON) scripts/build-puppet-module modules/puppet $(VERSION) $(DIST)/puppet

dist: ansible-collection puppet-module

format:
	clang-format -i $(foreach l,$(LAYERS),agent/src/$(l)/*.c agent/src/$(l)/*.h) tests/unit/*.c tests/unit/*.h fuzz/*.c bench/*.c

# Fuzzing (issue 7): libFuzzer targets in fuzz/ on the agent's objects (all
# but main.o, as an archive) built by clang with ASan and UBSan into
# build-fuzz/; `make fuzz` runs each for FUZZ_TIME seconds from its seeds.
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_BUILD  := build-fuzz
FUZZ_SAN    := address,undefined
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fno-sanitize-recover=undefined -std=c11 \
	-D_GNU_SOURCE -iquote agent/src -iquote $(FUZZ_BUILD)/gen -MMD -MP \
	$(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJS   := $(filter-out $(FUZZ_BUILD)/obj/cli/main.o,$(SRCS:agent/src/%.c=$(FUZZ_BUILD)/obj/%.o)) \
	$(FUZZ_BUILD)/obj/advice-table.o
FUZZ_BINS   := $(patsubst fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard fuzz/fuzz-*.c))

$(FUZZ_BUILD)/gen/version.h: VERSION
	@mkdir -p $(@D)
	$(Q)printf '/* Generated from VERSION by the Makefile: do not edit. */\n#define OFFLOADCTL_VERSION "%s"\n' \
		"$(VERSION)" > $@.tmp && mv $@.tmp $@

$(FUZZ_BUILD)/obj/%.o: agent/src/%.c | pkg-config-check $(FUZZ_BUILD)/gen/version.h
	@mkdir -p $(@D)
	$(vecho) "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(FUZZ_BUILD)/obj/advice-table.o: $(BUILD)/gen/advice-table.c
	@mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -c -o $@ $<

$(FUZZ_BUILD)/liboffloadctl.a: $(FUZZ_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $(FUZZ_OBJS)

$(FUZZ_BUILD)/fuzz-%: fuzz/fuzz-%.c $(FUZZ_BUILD)/liboffloadctl.a
	$(vecho) "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -o $@ $< \
		$(FUZZ_BUILD)/liboffloadctl.a $(LDLIBS)

# Saves the kernel's replies as netlink seeds: fuzz/capture-corpus.
$(FUZZ_BUILD)/capture-netlink: fuzz/capture-netlink.c
	@mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -std=c11 -D_GNU_SOURCE $(WARNINGS) $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) \
		-o $@ $< $(LDLIBS)

fuzz-build: $(FUZZ_BINS) $(FUZZ_BUILD)/capture-netlink

fuzz: fuzz-build
	@fuzz/run-fuzzers $(FUZZ_BUILD) $(FUZZ_TIME)

# The agent-facing suites and the unit tests against the sanitized build
# (ASan, UBSan, LeakSanitizer; tests/sanitized-agent), alone.  make check
# runs them too, after every suite against the plain build.
SAN_TESTS ?= tests/test_unit.py tests/test_cli.py tests/test_facts.py tests/test_apply.py \
	tests/test_validate.py tests/test_virt.py tests/test_watch.py tests/test_faults.py \
	tests/test_hostile.py tests/test_founding_case.py tests/test_watch_fire.py tests/test_last_good.py \
	tests/test_prometheus.py tests/test_advice.py
ifeq ($(SANITIZE)$(TESTS),)
CHECK_AGENT := $(CURDIR)/$(BUILD)/offloadctl
CHECK_SAN = SAN_OFFLOADCTL=$(CURDIR)/tests/sanitized-agent SAN_UNIT_DIR=$(CURDIR)/build-san/unit \
	SAN_TESTS="$(SAN_TESTS)"
else
CHECK_AGENT := $(if $(SANITIZE),$(CURDIR)/tests/sanitized-agent,$(CURDIR)/$(BUILD)/offloadctl)
CHECK_SAN :=
endif
check-san:
	@scripts/install-deps check
	@$(MAKE) --no-print-directory SANITIZE=address,undefined all unit
	@BUILD_DIR=$(CURDIR)/build-san OFFLOADCTL=$(CURDIR)/tests/sanitized-agent \
		SANITIZED_AGENT=$(CURDIR)/build-san/offloadctl UNIT_DIR=$(CURDIR)/build-san/unit \
		PYTHON=$(PYTHON) scripts/run-tests $(SAN_TESTS)

.PHONY: fuzz fuzz-build check-san

clean:
	rm -rf build build-san build-fuzz

# The headers each object and test included, from -MMD (none before the
# first build).
-include $(OBJS:.o=.d) $(UNIT_BINS:=.d) $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
