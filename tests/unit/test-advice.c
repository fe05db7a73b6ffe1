/* test-advice.c - the advice evaluation on a synthetic host: kernel
 * versions, applies versus pending, the founding case's two entries, and
 * the role conditions (forwarding, bridge ports, XDP, the master's driver) */
#include "model/advice.h"
#include "unit.h"

static const char *names[] = {
	"tx-checksum-ipv4",
	"tx-checksum-ip-generic",
	"tx-checksum-ipv6",
	"tx-checksum-sctp",
	"rx-lro",
	"rx-gro",
	"rx-udp-gro-forwarding",
	"rx-gro-list",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

static void host_init(struct host_state *hs, const char *release)
{
	memset(hs, 0, sizeof(*hs));
	hs->names.count = N_NAMES;
	hs->names.names = calloc(N_NAMES, sizeof(char *));
	for (size_t i = 0; i < N_NAMES; i++)
		hs->names.names[i] = strdup(names[i]);
	snprintf(hs->kernel_release, sizeof(hs->kernel_release), "%s", release);
}

/* name: changeable on/off, or fixed on/off */
static void feature(struct host_state *hs, struct iface *ifc, const char *name, bool on, bool fixed)
{
	int i = feature_names_index(&hs->names, name);

	featbits_set(&ifc->active, (unsigned)i, on);
	featbits_set(&ifc->wanted, (unsigned)i, on);
	featbits_set(&ifc->hw, (unsigned)i, !fixed);
}

static struct iface *add(struct host_state *hs, const char *name, const char *driver,
			 const char *module)
{
	struct iface *ifc = host_state_add(hs);

	ifc->ifindex = (int)hs->n;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	snprintf(ifc->driver, sizeof(ifc->driver), "%s", driver);
	snprintf(ifc->module, sizeof(ifc->module), "%s", module);
	ifc->have_features = true;
	ifc->have_link_role = true;
	ifc->forwarding[0] = ifc->forwarding[1] = 0;
	for (size_t i = 0; i < N_NAMES; i++)
		feature(hs, ifc, names[i], false, true); /* everything fixed off */
	return ifc;
}

/* The hit of id on iface name, or NULL. */
static const struct advice_hit *hit(const struct host_state *hs, const struct advice_list *l,
				    const char *id, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->hits[i].entry->id, id) && l->hits[i].iface >= 0 &&
		    !strcmp(hs->ifaces[l->hits[i].iface].name, name))
			return &l->hits[i];
	return NULL;
}

static void test_kernel_versions(void)
{
	CHECK(kernel_version_cmp("5.4.0-42-generic", "5.7") < 0);
	CHECK(kernel_version_cmp("5.7.0", "5.7") == 0);
	CHECK(kernel_version_cmp("5.10.0-28-amd64", "5.7") > 0);
	CHECK(kernel_version_cmp("6.1", "6.1.0") == 0);
	CHECK(kernel_version_cmp("4.19.123", "5") < 0);
	CHECK(kernel_version_cmp("", "5.7") < 0);
}

static void test_table(void)
{
	CHECK(advice_table_len >= 10);
	CHECK(!strcmp(advice_table[0].id, "xen-netfront-tx-csum"));
	CHECK(advice_find("lro-forwarding") && !advice_find("no-such-advice"));
	for (size_t i = 0; i < advice_table_len; i++)
		CHECK(advice_table[i].n_sources > 0 && advice_table[i].summary[0]);
}

static void test_netfront(void)
{
	struct host_state hs;
	struct advice_list l;
	struct iface *eth0;

	host_init(&hs, "6.1.0-18-amd64");
	eth0 = add(&hs, "enX0", "vif", "xen_netfront");
	feature(&hs, eth0, "tx-checksum-ipv4", true, true);
	feature(&hs, eth0, "tx-checksum-ipv6", true, false);
	CHECK(advice_evaluate(&hs, NULL, &l) == 0);
	CHECK(hit(&hs, &l, "xen-netfront-tx-csum", "enX0") &&
	      hit(&hs, &l, "xen-netfront-tx-csum", "enX0")->pending);
	CHECK(hit(&hs, &l, "xen-netfront-ipv4-csum-fixed", "enX0") &&
	      hit(&hs, &l, "xen-netfront-ipv4-csum-fixed", "enX0")->pending);
	CHECK(l.n_pending == 2);
	advice_list_free(&l);
	/* tx: off done: the first is followed (listed, not pending), the
	 * fixed member's advice stays */
	feature(&hs, eth0, "tx-checksum-ipv6", false, false);
	CHECK(advice_evaluate(&hs, NULL, &l) == 0);
	CHECK(hit(&hs, &l, "xen-netfront-tx-csum", "enX0") &&
	      !hit(&hs, &l, "xen-netfront-tx-csum", "enX0")->pending);
	CHECK(l.n_pending == 1);
	advice_list_free(&l);
	/* nothing to change on this device: the advice does not apply */
	feature(&hs, eth0, "tx-checksum-ipv6", false, true);
	CHECK(advice_evaluate(&hs, NULL, &l) == 0);
	CHECK(!hit(&hs, &l, "xen-netfront-tx-csum", "enX0"));
	advice_list_free(&l);
	host_state_free(&hs);
}

static void test_roles(void)
{
	struct host_state hs;
	struct advice_list l;
	struct iface *port, *fwd, *xdp, *synth, *vf;

	host_init(&hs, "6.1.0");
	add(&hs, "eth0", "ixgbe", "ixgbe");
	add(&hs, "eth1", "ixgbe", "ixgbe");
	add(&hs, "eth2", "mlx5_core", "mlx5_core");
	add(&hs, "eth3", "hv_netvsc", "hv_netvsc");
	add(&hs, "enP1s1", "mlx5_core", "mlx5_core");
	/* pointers only once every interface is added (the array grows) */
	port = &hs.ifaces[0];
	fwd = &hs.ifaces[1];
	xdp = &hs.ifaces[2];
	synth = &hs.ifaces[3];
	vf = &hs.ifaces[4];
	for (struct iface *i = port; i <= xdp; i++)
		feature(&hs, i, "rx-lro", true, false);
	snprintf(port->master, sizeof(port->master), "br0");
	snprintf(port->master_kind, sizeof(port->master_kind), "bridge");
	fwd->forwarding[0] = 1;
	feature(&hs, fwd, "rx-udp-gro-forwarding", false, false);
	feature(&hs, fwd, "rx-gro-list", false, false);
	xdp->xdp = "native";
	snprintf(vf->master, sizeof(vf->master), "eth3");
	(void)synth;
	CHECK(advice_evaluate(&hs, NULL, &l) == 0);
	CHECK(hit(&hs, &l, "lro-forwarding", "eth0") && hit(&hs, &l, "lro-forwarding", "eth1"));
	CHECK(!hit(&hs, &l, "lro-forwarding", "eth2")); /* XDP, but no forwarding */
	CHECK(hit(&hs, &l, "xdp-lro", "eth2") && !hit(&hs, &l, "xdp-lro", "eth0"));
	CHECK(hit(&hs, &l, "udp-gro-forwarding", "eth1") &&
	      !hit(&hs, &l, "udp-gro-forwarding", "eth0"));
	CHECK(hit(&hs, &l, "azure-netvsc-vf", "enP1s1") &&
	      !hit(&hs, &l, "azure-netvsc-vf", "eth2"));
	advice_list_free(&l);
	/* unknown kernel: no claim about kernel ranges */
	hs.kernel_release[0] = '\0';
	add(&hs, "flannel.1", "vxlan", "");
	snprintf(hs.ifaces[hs.n - 1].kind, sizeof(hs.ifaces[0].kind), "vxlan");
	feature(&hs, &hs.ifaces[hs.n - 1], "tx-checksum-ip-generic", true, false);
	CHECK(advice_evaluate(&hs, NULL, &l) == 0);
	CHECK(!hit(&hs, &l, "k8s-vxlan-tx-csum", "flannel.1") &&
	      !hit(&hs, &l, "k8s-vxlan-tx-csum-nat", "flannel.1"));
	advice_list_free(&l);
	snprintf(hs.kernel_release, sizeof(hs.kernel_release), "5.4.0-42-generic");
	CHECK(advice_evaluate(&hs, NULL, &l) == 0);
	CHECK(hit(&hs, &l, "k8s-vxlan-tx-csum-nat", "flannel.1") &&
	      !hit(&hs, &l, "k8s-vxlan-tx-csum", "flannel.1"));
	advice_list_free(&l);
	host_state_free(&hs);
}

int main(void)
{
	test_kernel_versions();
	test_table();
	test_netfront();
	test_roles();
	return unit_done();
}
