/* test-plan.c - the pure parts: name patterns and expansion, rule matching,
 * merged rules, defaults, and the plan itself on a synthetic host */
#include <errno.h>

#include "model/desired-state.h"
#include "model/features.h"
#include "model/plan.h"
#include "unit.h"

static const char *names[] = {
	"tx-scatter-gather",
	"tx-checksum-ipv4",
	"tx-checksum-ip-generic",
	"tx-checksum-ipv6",
	"highdma",
	"tx-scatter-gather-fraglist",
	"tx-vlan-hw-insert",
	"rx-vlan-hw-parse",
	"tx-generic-segmentation",
	"rx-gro",
	"rx-lro",
	"tx-tcp-segmentation",
	"tx-tcp6-segmentation",
	"rx-checksum",
	"tx-checksum-sctp",
	"",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

static int idx(const struct host_state *hs, const char *n)
{
	return feature_names_index(&hs->names, n);
}

static void host_init(struct host_state *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->names.count = N_NAMES;
	hs->names.names = calloc(N_NAMES, sizeof(char *));
	for (size_t i = 0; i < N_NAMES; i++)
		hs->names.names[i] = strdup(names[i]);
}

static struct iface *add_iface(struct host_state *hs, const char *name, const char *kind,
			       const char *driver, const char *mac)
{
	struct iface *ifc = host_state_add(hs);

	ifc->ifindex = (int)hs->n;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	snprintf(ifc->kind, sizeof(ifc->kind), "%s", kind);
	snprintf(ifc->driver, sizeof(ifc->driver), "%s", driver);
	snprintf(ifc->mac, sizeof(ifc->mac), "%s", mac);
	ifc->operstate = "up";
	ifc->have_features = true;
	/* everything on and changeable, except ipv4/ipv6 csum and lro: fixed off */
	for (unsigned int i = 0; i < N_NAMES - 1; i++) {
		bool fixed_off = !strcmp(names[i], "tx-checksum-ipv4") ||
				 !strcmp(names[i], "tx-checksum-ipv6") ||
				 !strcmp(names[i], "rx-lro");

		featbits_set(&ifc->hw, i, !fixed_off);
		featbits_set(&ifc->active, i, !fixed_off);
		featbits_set(&ifc->wanted, i, !fixed_off);
	}
	return ifc;
}

static int parse(struct desired_state *ds, const char *text)
{
	struct strlist errors = { 0 };
	int r;

	desired_state_init(ds);
	r = desired_state_parse_buffer(ds, "t.yaml", text, strlen(text), &errors);
	for (size_t i = 0; i < errors.n; i++)
		printf("# %s\n", errors.items[i]);
	strlist_free(&errors);
	return r;
}

static const struct plan_iface *plan_for(const struct plan *p, const struct host_state *hs,
					 const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(hs->ifaces[p->ifaces[i].iface].name, name))
			return &p->ifaces[i];
	return NULL;
}

static void test_patterns(void)
{
	struct host_state hs;
	struct featbits b;

	CHECK(feature_pattern_match("tx-checksum-ipv4", "tx-checksum-*"));
	CHECK(feature_pattern_match("tx-tcp6-segmentation", "tx-tcp*-segmentation"));
	CHECK(!feature_pattern_match("tx-udp-segmentation", "tx-tcp*-segmentation"));
	CHECK(feature_pattern_match("tx-scatter-gather", "tx-scatter-gather*"));
	CHECK(!feature_pattern_match("rx-gro-hw", "rx-gro"));
	CHECK(offload_def_lookup("tso") == offload_def_lookup("tcp-segmentation-offload"));
	CHECK(offload_def_lookup("tx-checksum-ipv4") < 0);

	host_init(&hs);
	CHECK(feature_name_expand(&hs.names, "tx", &b) == FEATURE_NAME_LEGACY);
	CHECK(featbits_test(&b, 1) && featbits_test(&b, 2) && featbits_test(&b, 3) &&
	      featbits_test(&b, 14) && !featbits_test(&b, 0));
	CHECK(feature_name_expand(&hs.names, "scatter-gather", &b) == FEATURE_NAME_LEGACY);
	CHECK(featbits_test(&b, 0) && featbits_test(&b, 5) && !featbits_test(&b, 1));
	CHECK(feature_name_expand(&hs.names, "rx-gro", &b) == FEATURE_NAME_KERNEL);
	CHECK(featbits_test(&b, 9) && !featbits_test(&b, 10));
	CHECK(feature_name_expand(&hs.names, "tx-nope", &b) == FEATURE_NAME_UNKNOWN);
	CHECK(!featbits_any(&b));
	CHECK(feature_name_known_static("tx-udp_tnl-segmentation"));
	CHECK(!feature_name_known_static("tx-udp-tnl-segmentation"));
	CHECK(feature_name_suggest(&hs.names, "tx-checksumming-ipv4") != NULL);
	CHECK(feature_name_suggest(NULL, "rx-gor") &&
	      !strcmp(feature_name_suggest(NULL, "rx-gor"), "rx-gro"));
	CHECK(feature_name_suggest(NULL, "completely-unrelated-words") == NULL);
	host_state_free(&hs);
}

static void test_plan_merge_globs_conditions(void)
{
	struct host_state hs;
	struct desired_state ds;
	struct virt_info vi;
	struct plan p;
	const struct plan_iface *pi;

	host_init(&hs);
	add_iface(&hs, "eth0", "", "xen_netfront", "00:16:3e:aa:bb:cc");
	add_iface(&hs, "eth1", "", "e1000", "52:54:00:00:00:01");
	add_iface(&hs, "veth9", "veth", "veth", "aa:aa:aa:aa:aa:aa");
	memset(&vi, 0, sizeof(vi));
	strcpy(vi.vm, "xen");
	strcpy(vi.container, "none");
	strcpy(vi.xen_domain, "domU");

	CHECK(parse(&ds, "version: 1\n"
			 "interfaces:\n"
			 "  - match: {name: 'eth*'}\n"
			 "    features: {tx: off, gro: off}\n"
			 "  - match: {mac: '00:16:3E:*', virtualization: xen-domU}\n"
			 "    features: {gro: on}\n"
			 "  - match: {driver: e1000, virtualization: xen-dom0}\n"
			 "    features: {sg: off}\n"
			 "  - match: {kind: veth}\n"
			 "    features: {tx-checksum-sctp: off}\n") == 0);
	CHECK(plan_compute(&hs, &ds, &vi, &p) == 0);
	CHECK(p.invalid.n == 0 && p.errors.n == 0);
	CHECK(p.n == 3);
	pi = plan_for(&p, &hs, "eth0");
	/* tx -> its changeable members off; gro: last rule wins (on = no change) */
	CHECK(pi && featbits_test(&pi->mask, (unsigned)idx(&hs, "tx-checksum-ip-generic")));
	CHECK(pi && featbits_test(&pi->mask, (unsigned)idx(&hs, "tx-checksum-sctp")));
	CHECK(pi && !featbits_test(&pi->mask, (unsigned)idx(&hs, "tx-checksum-ipv4")));
	CHECK(pi && !featbits_test(&pi->mask, (unsigned)idx(&hs, "rx-gro")));
	CHECK(pi && featbits_test(&pi->want_mask, (unsigned)idx(&hs, "rx-gro")) &&
	      featbits_test(&pi->want_values, (unsigned)idx(&hs, "rx-gro")));
	/* a change names the feature setting that decides it: "tx" at 4:16 */
	CHECK(pi && pi->n_changes == 2 && pi->changes[0].rule->line == 4 &&
	      pi->changes[0].rule->column == 16);
	pi = plan_for(&p, &hs, "eth1");
	/* the dom0 rule does not hold on a domU: sg stays; gro goes off */
	CHECK(pi && featbits_test(&pi->mask, (unsigned)idx(&hs, "rx-gro")) &&
	      !featbits_test(&pi->values, (unsigned)idx(&hs, "rx-gro")));
	CHECK(pi && !featbits_test(&pi->mask, (unsigned)idx(&hs, "tx-scatter-gather")));
	pi = plan_for(&p, &hs, "veth9");
	CHECK(pi && pi->n_changes == 1 &&
	      pi->changes[0].feature == (unsigned)idx(&hs, "tx-checksum-sctp") &&
	      !pi->changes[0].to);
	CHECK(p.n_matched == 3);
	plan_free(&p);

	/* vi == NULL: a rule with a host condition never holds */
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	pi = plan_for(&p, &hs, "eth0");
	CHECK(pi && featbits_test(&pi->mask, (unsigned)idx(&hs, "rx-gro")));
	plan_free(&p);
	desired_state_free(&ds);
	host_state_free(&hs);
}

static void test_plan_defaults(void)
{
	struct host_state hs;
	struct desired_state ds;
	struct plan p;

	host_init(&hs);
	add_iface(&hs, "eth0", "", "virtio_net", "52:54:00:00:00:02");

	/* a fixed feature by name: error by default, warning when asked */
	CHECK(parse(&ds, "version: 1\ninterfaces:\n  - match: {name: eth0}\n"
			 "    features: {lro: on, tx-checksum-ipv4: on}\n") == 0);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.errors.n == 2 && p.warnings.n == 0);
	CHECK(p.errors.n && strstr(p.errors.items[0], "t.yaml:4:") &&
	      strstr(p.errors.items[0], "'lro'") && strstr(p.errors.items[0], "fixed off"));
	plan_free(&p);
	desired_state_free(&ds);

	CHECK(parse(&ds, "version: 1\ndefaults: {fixed-feature: warn, missing-interface: error}\n"
			 "interfaces:\n  - match: {name: [eth0, eth7, 'x*']}\n"
			 "    features: {lro: on, tx: on}\n") == 0);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	/* tx on: ipv4/ipv6 are fixed but the group has changeable members: fine */
	CHECK(p.warnings.n == 1 && strstr(p.warnings.items[0], "'lro'"));
	CHECK(p.errors.n == 1 && strstr(p.errors.items[0], "no interface named 'eth7'"));
	CHECK(p.n == 0); /* tx is already on */
	plan_free(&p);
	desired_state_free(&ds);

	/* a name this kernel lacks is invalid here, with a suggestion */
	CHECK(parse(&ds, "version: 1\ninterfaces:\n  - match: {name: eth0}\n"
			 "    features: {tx-udp-segmentation: off, ufo: off}\n") == 0);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.invalid.n == 2);
	CHECK(p.invalid.n &&
	      strstr(p.invalid.items[0], "unknown feature 'tx-udp-segmentation' for this kernel"));
	CHECK(p.invalid.n > 1 && strstr(p.invalid.items[1], "'ufo' stands for"));
	plan_free(&p);
	desired_state_free(&ds);
	host_state_free(&hs);
}

static void test_requested_only(void)
{
	struct host_state hs;
	struct desired_state ds;
	struct plan p;
	struct iface *ifc;
	unsigned int tso;

	host_init(&hs);
	ifc = add_iface(&hs, "eth0", "", "virtio_net", "52:54:00:00:00:03");
	tso = (unsigned)idx(&hs, "tx-tcp-segmentation");
	featbits_set(&ifc->active, tso, false); /* off because tx is off, requested on */
	CHECK(parse(&ds, "version: 1\ninterfaces:\n  - match: {name: eth0}\n"
			 "    features: {tx-tcp-segmentation: off}\n") == 0);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.n == 1 && p.ifaces[0].n_changes == 1 && p.ifaces[0].changes[0].requested_only);
	plan_free(&p);
	featbits_set(&ifc->wanted, tso, false);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.n == 0); /* in sync: nothing to send */
	plan_free(&p);
	desired_state_free(&ds);
	host_state_free(&hs);
}

/* LRO asked on where the kernel keeps it off: an error with the kernel's
 * reason, nothing sent; the same rule on a device that does not forward
 * is an ordinary change. */
static void test_lro_forwarding(void)
{
	struct host_state hs;
	struct desired_state ds;
	struct plan p;
	struct iface *port, *plain;
	unsigned int lro;

	host_init(&hs);
	lro = (unsigned)idx(&hs, "rx-lro");
	port = add_iface(&hs, "eth0", "", "ixgbe", "52:54:00:00:00:04");
	plain = add_iface(&hs, "eth1", "", "ixgbe", "52:54:00:00:00:05");
	for (int k = 0; k < 2; k++) {
		struct iface *ifc = k ? plain : port;

		featbits_set(&ifc->hw, lro, true); /* changeable, off */
		ifc->forwarding[0] = ifc->forwarding[1] = 0;
		ifc->have_link_role = true;
	}
	snprintf(port->master, sizeof(port->master), "br0");
	snprintf(port->master_kind, sizeof(port->master_kind), "bridge");
	CHECK(parse(&ds, "version: 1\ninterfaces:\n  - match: {name: 'eth*'}\n"
			 "    features: {lro: on}\n") == 0);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.errors.n == 1 &&
	      strstr(p.errors.items[0], "t.yaml:4:16: cannot set 'lro' on 'eth0'") &&
	      strstr(p.errors.items[0], "port of bridge 'br0'"));
	CHECK(plan_for(&p, &hs, "eth0") == NULL);
	CHECK(plan_for(&p, &hs, "eth1") && plan_for(&p, &hs, "eth1")->n_changes == 1);
	plan_free(&p);
	/* forwarding instead of a bridge: the sysctl is named */
	port->master[0] = port->master_kind[0] = '\0';
	port->forwarding[1] = 1;
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.errors.n == 1 && strstr(p.errors.items[0], "net.ipv6.conf.eth0.forwarding=1"));
	plan_free(&p);
	/* already on (someone forced it back): no change, so nothing to refuse */
	featbits_set(&port->active, lro, true);
	featbits_set(&port->wanted, lro, true);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.errors.n == 0 && plan_for(&p, &hs, "eth0") == NULL);
	plan_free(&p);
	desired_state_free(&ds);
	host_state_free(&hs);
}

/* --interface is a plan option: other interfaces are not planned, and
 * rules and names that match none of the chosen ones say nothing. */
static void test_only_some_interfaces(void)
{
	struct host_state hs;
	struct desired_state ds;
	struct plan p;
	char eth1[] = "eth1", glob[] = "eth*";
	char *only[] = { eth1 };
	bool exact[] = { true };
	struct plan_opts o = { .only = only, .only_exact = exact, .n_only = 1 };

	host_init(&hs);
	add_iface(&hs, "eth0", "", "e1000", "00:00:00:00:00:01");
	add_iface(&hs, "eth1", "", "e1000", "00:00:00:00:00:02");
	CHECK(parse(&ds, "version: 1\ndefaults: {missing-interface: error, unmatched-rule: error}\n"
			 "interfaces:\n  - match: {name: 'eth*'}\n    features: {gro: off}\n"
			 "  - match: {name: [eth7]}\n    features: {tx: off}\n") == 0);
	CHECK(plan_compute_opts(&hs, &ds, NULL, &o, &p) == 0);
	CHECK(p.n == 1 && plan_for(&p, &hs, "eth1") && !plan_for(&p, &hs, "eth0"));
	CHECK(p.errors.n == 0 && p.warnings.n == 0 && p.n_unmatched == 0);
	plan_free(&p);
	/* a glob selects too; without a filter the policies speak */
	only[0] = glob;
	exact[0] = false;
	CHECK(plan_compute_opts(&hs, &ds, NULL, &o, &p) == 0);
	CHECK(p.n == 2 && p.errors.n == 0);
	plan_free(&p);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	/* eth7 is missing (its rule, all exact names, is missing-interface's) */
	CHECK(p.n == 2 && p.errors.n == 1 && strstr(p.errors.items[0], "'eth7'"));
	plan_free(&p);
	desired_state_free(&ds);
	host_state_free(&hs);
}

/* rings, channels and the rest: last rule wins, max, above-maximum,
 * what the driver lacks, TuneD's translation both ways, only what differs */
static void test_settings(void)
{
	struct host_state hs;
	struct desired_state ds;
	struct plan p;
	struct iface *nic, *veth, *tun;

	host_init(&hs);
	nic = add_iface(&hs, "eth0", "", "e1000e", "52:54:00:00:00:02");
	nic->settings.read = SETTING_GROUPS_ALL;
	nic->settings.supported = (1u << SG_RINGS) | (1u << SG_COALESCE) | (1u << SG_PAUSE);
	nic->settings.present = setting_bit(SP_RINGS_RX) | setting_bit(SP_RINGS_TX) |
				setting_bit(SP_COAL_RX_USECS) | setting_bit(SP_PAUSE_RX);
	nic->settings.has_max = setting_bit(SP_RINGS_RX) | setting_bit(SP_RINGS_TX);
	nic->settings.value[SP_RINGS_RX] = 256;
	nic->settings.max[SP_RINGS_RX] = 4096;
	nic->settings.value[SP_RINGS_TX] = 256;
	nic->settings.max[SP_RINGS_TX] = 4096;
	nic->settings.value[SP_COAL_RX_USECS] = 3;
	nic->settings.value[SP_PAUSE_RX] = 1;
	veth = add_iface(&hs, "veth0", "veth", "veth", "52:54:00:00:00:03");
	veth->settings.read = SETTING_GROUPS_ALL;
	veth->settings.supported = 1u << SG_CHANNELS;
	veth->settings.present = veth->settings.has_max =
		setting_bit(SP_CHANNELS_RX) | setting_bit(SP_CHANNELS_TX);
	veth->settings.value[SP_CHANNELS_RX] = veth->settings.value[SP_CHANNELS_TX] = 1;
	veth->settings.max[SP_CHANNELS_RX] = veth->settings.max[SP_CHANNELS_TX] = 2;
	tun = add_iface(&hs, "tun0", "tun", "tun", "52:54:00:00:00:04");
	tun->settings.read = SETTING_GROUPS_ALL;
	tun->settings.supported = 1u << SG_CHANNELS;
	tun->settings.present = tun->settings.has_max = setting_bit(SP_CHANNELS_COMBINED);
	tun->settings.max[SP_CHANNELS_COMBINED] = 8;

	CHECK(parse(&ds, "version: 1\ninterfaces:\n"
			 "  - match: {name: eth0}\n    rings: {rx: 512, tx: 256}\n"
			 "  - match: {name: eth0}\n    rings: {rx: max}\n"
			 "    coalesce: {rx-usecs: 3}\n    pause: {rx: on}\n"
			 "  - match: {name: veth0}\n    channels: {combined: max}\n"
			 "  - match: {name: tun0}\n    channels: {rx: 3, tx: 5}\n") == 0);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.errors.n == 0 && p.warnings.n == 2 && p.n == 3);
	/* eth0: only rings rx, the later rule's max */
	CHECK(p.n == 3 && p.ifaces[0].n_settings == 1 && p.ifaces[0].n_changes == 0 &&
	      p.ifaces[0].settings[0].param == SP_RINGS_RX && p.ifaces[0].settings[0].from == 256 &&
	      p.ifaces[0].settings[0].to == 4096 && p.ifaces[0].settings[0].rule->line == 6);
	/* veth0: combined: max as rx and tx, each its own maximum */
	CHECK(p.n == 3 && p.ifaces[1].n_settings == 2 &&
	      p.ifaces[1].settings[0].param == SP_CHANNELS_RX && p.ifaces[1].settings[0].to == 2 &&
	      p.ifaces[1].settings[1].param == SP_CHANNELS_TX && p.ifaces[1].settings[1].to == 2);
	/* tun0: rx and tx as combined, the larger */
	CHECK(p.n == 3 && p.ifaces[2].n_settings == 1 &&
	      p.ifaces[2].settings[0].param == SP_CHANNELS_COMBINED &&
	      p.ifaces[2].settings[0].to == 5);
	CHECK(p.warnings.n == 2 && strstr(p.warnings.items[0], "as TuneD does"));
	plan_free(&p);
	desired_state_free(&ds);

	/* above the maximum, and what the driver lacks: errors, nothing planned */
	CHECK(parse(&ds, "version: 1\ninterfaces:\n"
			 "  - match: {name: eth0}\n    rings: {rx: 5000, rx-jumbo: 10}\n"
			 "    eee: {eee: off}\n") == 0);
	CHECK(plan_compute(&hs, &ds, NULL, &p) == 0);
	CHECK(p.errors.n == 3 && p.n == 0);
	CHECK(p.errors.n == 3 && strstr(p.errors.items[0], "the maximum is 4096") &&
	      strstr(p.errors.items[1], "'rings: rx-jumbo' on 'eth0': the driver does not") &&
	      strstr(p.errors.items[2], "no such settings at all"));
	CHECK(p.errors.n == 3 && p.error_iface[0] == 0);
	plan_free(&p);
	desired_state_free(&ds);
	host_state_free(&hs);
}

int main(void)
{
	test_settings();
	test_only_some_interfaces();
	test_patterns();
	test_plan_merge_globs_conditions();
	test_plan_defaults();
	test_requested_only();
	test_lro_forwarding();
	return unit_done();
}
