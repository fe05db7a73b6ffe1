/* virt-detect.c - virtualisation probes: which VM, which container, which Xen domain
 *
 * Modelled on systemd's src/basic/virt.c: one small probe per evidence source,
 * vendor strings in tables, combined in systemd's order so that the answers
 * agree with `systemd-detect-virt --vm` and `--container`.  Unlike systemd,
 * every host file is read beneath a root prefix (hostfs.c) and nothing is
 * cached, so a fixture tree can stand for any machine.
 *
 * Every probe is consulted and adds what it saw to the evidence list; the
 * decision (decide_vm, decide_container) then follows systemd's order.  A
 * probe returns 0 with an answer, -ENOENT for "no evidence" (an unreadable
 * file included), or -ENOMEM.  facts/virt.md documents the order.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/hostfs.h"
#include "host/virt-detect.h"
#include "model/vocab.h"
#include "lib/escape.h"
#include "lib/log.h"

/* Words of the vocabulary (model/vocab.c) that the tables below need as
 * constants; tests/test_names.py checks every word detection can give. */
static const char NONE[] = "none";
static const char VM_OTHER[] = "vm-other";
static const char CONTAINER_OTHER[] = "container-other";

static bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Evidence strings carry host data: keep them short, printable ASCII (valid JSON). */
static int add_evidence(struct strlist *ev, const char *what, const char *sep, const char *value)
{
	char clean[96];
	size_t i;

	for (i = 0; value && value[i] && i < sizeof(clean) - 1; i++)
		clean[i] = isprint((unsigned char)value[i]) ? value[i] : '?';
	clean[i] = '\0';
	if (value)
		return strlist_addf(ev, "%s%s%s", what, sep, clean);
	return strlist_add(ev, what);
}

/* Read errors other than ENOMEM are no evidence (an unprivileged user, a locked /proc/1). */
static int no_evidence(int r, const char *rel)
{
	if (r == -ENOMEM)
		return r;
	if (r == -EINVAL) /* a FIFO, socket or device: never waited on */
		log_warn("ignoring '%s': not a regular file", rel);
	else if (r != -ENOENT)
		log_debug("cannot read '%s': %s", rel, strerror(-r));
	return -ENOENT;
}

/* ---- DMI (SMBIOS strings the kernel exports in /sys/class/dmi/id) ---- */

static const char *const dmi_fields[] = {
	"sys/class/dmi/id/product_name", /* before sys_vendor: KVM over QEMU */
	"sys/class/dmi/id/sys_vendor",	 "sys/class/dmi/id/board_vendor",
	"sys/class/dmi/id/bios_vendor",	 "sys/class/dmi/id/product_version", /* Hyper-V */
};

/* Value prefixes, as systemd's dmi_vendor_table. */
static const struct {
	const char *prefix;
	const char *vm;
} dmi_vendors[] = {
	{ "KVM", "kvm" },
	{ "OpenStack", "kvm" },
	{ "KubeVirt", "kvm" },
	{ "Amazon EC2", "amazon" },
	{ "QEMU", "qemu" },
	{ "VMware", "vmware" },
	{ "VMW", "vmware" },
	{ "innotek GmbH", "oracle" },
	{ "VirtualBox", "oracle" },
	{ "Oracle Corporation", "oracle" },
	{ "Xen", "xen" },
	{ "Bochs", "bochs" },
	{ "Parallels", "parallels" },
	{ "BHYVE", "bhyve" },
	{ "Hyper-V", "microsoft" },
	{ "Apple Virtualization", "apple" },
	{ "Google Compute Engine", "google" },
};

/* The first DMI string (in dmi_fields order) that names a hypervisor. */
static int probe_dmi_vendor(const char *root, struct strlist *ev, const char **ret)
{
	for (size_t f = 0; f < ARRAY_SIZE(dmi_fields); f++) {
		char *s;
		int r;

		r = hostfs_read_line(root, dmi_fields[f], &s);
		if (r < 0) {
			if (no_evidence(r, dmi_fields[f]) == -ENOMEM)
				return -ENOMEM;
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(dmi_vendors); i++) {
			if (startswith(s, dmi_vendors[i].prefix)) {
				r = add_evidence(ev, dmi_fields[f], "=", s);
				free(s);
				if (r < 0)
					return r;
				*ret = dmi_vendors[i].vm;
				return 0;
			}
		}
		free(s);
	}
	return -ENOENT;
}

enum smbios_vm_bit {
	SMBIOS_VM_BIT_UNKNOWN,
	SMBIOS_VM_BIT_SET,
	SMBIOS_VM_BIT_UNSET
};

/*
 * SMBIOS BIOS Characteristics Extension Byte 2, bit 4: "this is a virtual
 * machine" (DSP0134 2.1.2.2).  The table is readable by root only.
 */
static enum smbios_vm_bit probe_smbios_vm_bit(const char *root)
{
	static const char rel[] = "sys/firmware/dmi/entries/0-0/raw";
	size_t len;
	char *s;
	int r;

	r = hostfs_read(root, rel, 4096, &s, &len);
	if (r < 0) {
		no_evidence(r, rel);
		return SMBIOS_VM_BIT_UNKNOWN;
	}
	if (len < 20 || (uint8_t)s[1] < 20) {
		free(s);
		return SMBIOS_VM_BIT_UNKNOWN;
	}
	r = ((uint8_t)s[19] & (1U << 4)) ? SMBIOS_VM_BIT_SET : SMBIOS_VM_BIT_UNSET;
	free(s);
	return (enum smbios_vm_bit)r;
}

/* Amazon's bare-metal instances: "m5.metal", "c5n.metal-48xl"... */
static bool is_amazon_metal(const char *product)
{
	const char *e = strstr(product, ".metal");

	return e && (e[6] == '\0' || e[6] == '-');
}

/*
 * DMI vendor strings, refined as systemd does: "Amazon EC2" is a VM unless
 * SMBIOS (or, when that is unreadable, a ".metal" product name) says bare
 * metal; no vendor but the SMBIOS VM bit set is "vm-other".
 */
static int probe_dmi(const char *root, struct strlist *ev, const char **ret)
{
	const char *vm = NONE;
	enum smbios_vm_bit bit;
	int r;

	r = probe_dmi_vendor(root, ev, &vm);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		if (probe_smbios_vm_bit(root) != SMBIOS_VM_BIT_SET)
			return -ENOENT;
		r = add_evidence(ev, "sys/firmware/dmi/entries/0-0/raw: vm bit", "", NULL);
		if (r < 0)
			return r;
		*ret = VM_OTHER;
		return 0;
	}
	if (streq(vm, "amazon")) {
		bit = probe_smbios_vm_bit(root);
		if (bit == SMBIOS_VM_BIT_UNSET) {
			r = add_evidence(ev, "sys/firmware/dmi/entries/0-0/raw: no vm bit", "",
					 NULL);
			if (r < 0)
				return r;
			vm = NONE;
		} else if (bit == SMBIOS_VM_BIT_UNKNOWN) {
			char *product;

			/* EC2 VMs are far more common: unreadable means a VM. */
			r = hostfs_read_line(root, "sys/class/dmi/id/product_name", &product);
			if (r == -ENOMEM)
				return r;
			if (r == 0) {
				if (is_amazon_metal(product)) {
					r = add_evidence(ev, "sys/class/dmi/id/product_name", "=",
							 product);
					vm = NONE;
				}
				free(product);
				if (r < 0)
					return r;
			}
		}
	}
	*ret = vm;
	return 0;
}

/* ---- User-Mode Linux: the CPU vendor in /proc/cpuinfo ---- */

static int probe_uml(const char *root, struct strlist *ev, const char **ret)
{
	char *s, *line;
	int r;

	r = hostfs_read(root, "proc/cpuinfo", 1 << 20, &s, NULL);
	if (r < 0)
		return no_evidence(r, "proc/cpuinfo");
	r = -ENOENT;
	for (line = s; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (startswith(line, "vendor_id\t: ")) {
			if (startswith(line + strlen("vendor_id\t: "), "User Mode Linux")) {
				r = add_evidence(ev, "proc/cpuinfo: vendor_id User Mode Linux", "",
						 NULL);
				if (r == 0)
					*ret = "uml";
			}
			break;
		}
	}
	free(s);
	return r;
}

/* ---- Xen ---- */

#define XENFEAT_dom0 11 /* xen/include/public/features.h */

struct xen_facts {
	bool proc_xen;	    /* /proc/xen exists: some Xen domain (PV, or xenfs mounted) */
	int dom0;	    /* 1 dom0, 0 domU, -1 no dom0 evidence either way */
	bool hv_type_xen;   /* /sys/hypervisor/type is "xen" */
	char guest_type[8]; /* /sys/hypervisor/guest_type: PV, HVM or PVH */
};

/*
 * dom0 or domU: bit XENFEAT_dom0 of /sys/hypervisor/properties/features
 * (set by the XENVER_get_features hypercall, present before xenfs is
 * mounted) decides; otherwise "control_d" among /proc/xen/capabilities.
 */
static int probe_xen_dom0(const char *root, struct strlist *ev, int *ret)
{
	static const char features_rel[] = "sys/hypervisor/properties/features";
	static const char caps_rel[] = "proc/xen/capabilities";
	int dom0 = -1, r;
	char *s;

	r = hostfs_read_line(root, features_rel, &s);
	if (r < 0 && no_evidence(r, features_rel) == -ENOMEM)
		return -ENOMEM;
	if (r == 0) {
		unsigned long features;
		char *end;

		errno = 0;
		features = strtoul(s, &end, 16); /* hex digits without "0x" */
		if (errno == 0 && end != s && *end == '\0') {
			dom0 = !!(features & (1UL << XENFEAT_dom0));
			r = strlist_addf(ev, "%s=%s: %sXENFEAT_dom0", features_rel, s,
					 dom0 ? "" : "no ");
		}
		free(s);
		if (r < 0)
			return r;
	}

	r = hostfs_read_line(root, caps_rel, &s);
	if (r < 0 && no_evidence(r, caps_rel) == -ENOMEM)
		return -ENOMEM;
	if (r == 0) {
		bool control_d = false;

		/* A comma-separated list; empty in a domU. */
		for (char *save = NULL, *cap = strtok_r(s, ",", &save); cap;
		     cap = strtok_r(NULL, ",", &save))
			if (streq(cap, "control_d"))
				control_d = true;
		free(s);
		r = add_evidence(ev, caps_rel, ": ", control_d ? "control_d" : "no control_d");
		if (r < 0)
			return r;
		if (dom0 < 0)
			dom0 = control_d;
	}
	*ret = dom0;
	return 0;
}

static int probe_xen(const char *root, struct strlist *ev, struct xen_facts *ret)
{
	static const char *const guest_types[] = { "PV", "HVM", "PVH" };
	struct xen_facts x = { .dom0 = -1 };
	char *s;
	int r;

	r = hostfs_exists(root, "proc/xen");
	if (r == 0) {
		x.proc_xen = true;
		r = add_evidence(ev, "proc/xen", "", NULL);
		if (r < 0)
			return r;
	}
	r = probe_xen_dom0(root, ev, &x.dom0);
	if (r < 0)
		return r;

	r = hostfs_read_line(root, "sys/hypervisor/type", &s);
	if (r < 0 && no_evidence(r, "sys/hypervisor/type") == -ENOMEM)
		return -ENOMEM;
	if (r == 0) {
		x.hv_type_xen = streq(s, "xen");
		r = add_evidence(ev, "sys/hypervisor/type", "=", s);
		free(s);
		if (r < 0)
			return r;
	}

	/* Kernel 4.13+; "Xen" on Arm, where there is no PV/HVM distinction (null). */
	r = hostfs_read_line(root, "sys/hypervisor/guest_type", &s);
	if (r < 0 && no_evidence(r, "sys/hypervisor/guest_type") == -ENOMEM)
		return -ENOMEM;
	if (r == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(guest_types); i++)
			if (streq(s, guest_types[i]))
				snprintf(x.guest_type, sizeof(x.guest_type), "%s", guest_types[i]);
		r = add_evidence(ev, "sys/hypervisor/guest_type", "=", s);
		free(s);
		if (r < 0)
			return r;
	}
	*ret = x;
	return 0;
}

/* ---- /sys/hypervisor/type: "xen", or a hypervisor of another kind ---- */

static int probe_hypervisor_type(const char *root, const char **ret)
{
	char *s;
	int r;

	/* Its evidence was added by probe_xen. */
	r = hostfs_read_line(root, "sys/hypervisor/type", &s);
	if (r < 0)
		return no_evidence(r, "sys/hypervisor/type");
	*ret = streq(s, "xen") ? "xen" : VM_OTHER;
	free(s);
	return 0;
}

/* ---- CPUID: leaf 1 ECX bit 31 (hypervisor), vendor at leaf 0x40000000 ---- */

static const struct {
	const char *sig; /* trailing spaces and NULs removed */
	const char *vm;
} cpuid_vendors[] = {
	{ "XenVMMXenVMM", "xen" },    { "KVMKVMKVM", "kvm" }, /* QEMU with KVM */
	{ "Linux KVM Hv", "kvm" },			      /* KVM with Hyper-V enlightenments */
	{ "TCGTCGTCGTCG", "qemu" },			      /* QEMU without KVM */
	{ "VMwareVMware", "vmware" }, { "Microsoft Hv", "microsoft" }, { "bhyve bhyve", "bhyve" },
	{ "QNXQVMBSQG", "qnx" },      { "ACRNACRNACRN", "acrn" },      { "SRESRESRESRE", "sre" },
	{ "Apple VZ", "apple" },
};

/* Keep the signature printable; cut at the first NUL, drop trailing padding. */
static void cpuid_sig_clean(const char *raw, size_t len, char sig[13])
{
	size_t n = 0;

	for (; n < len && n < 12 && raw[n] != '\0' && raw[n] != '\n'; n++)
		sig[n] = isprint((unsigned char)raw[n]) ? raw[n] : '?';
	while (n > 0 && sig[n - 1] == ' ')
		n--;
	sig[n] = '\0';
}

/*
 * The hypervisor bit and vendor signature: from the CPU on the host itself,
 * from the file ROOT/cpuid under a root prefix (CONTRACT.md "Fixtures").
 * Returns 0 when the hypervisor bit is set (sig may be ""), -ENOENT when clear.
 */
static int read_cpuid(const char *root, char sig[13])
{
	if (!hostfs_is_host(root)) {
		size_t len;
		char *s;
		int r;

		r = hostfs_read(root, "cpuid", 4096, &s, &len);
		if (r < 0)
			return no_evidence(r, "cpuid");
		cpuid_sig_clean(s, len, sig);
		free(s);
		return 0;
	}
#if defined(__x86_64__) || defined(__i386__)
	{
		unsigned int eax, ebx, ecx, edx;
		char raw[12];

		if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0 || !(ecx & 0x80000000U))
			return -ENOENT;
		__cpuid(0x40000000U, eax, ebx, ecx, edx);
		memcpy(raw, &ebx, 4);
		memcpy(raw + 4, &ecx, 4);
		memcpy(raw + 8, &edx, 4);
		cpuid_sig_clean(raw, sizeof(raw), sig);
		return 0;
	}
#else
	return -ENOENT;
#endif
}

static int probe_cpuid(const char *root, struct strlist *ev, char sig[13], const char **ret)
{
	int r;

	sig[0] = '\0';
	r = read_cpuid(root, sig);
	if (r < 0)
		return r;
	r = add_evidence(ev, "cpuid: ", "", sig[0] ? sig : "hypervisor bit, no vendor");
	if (r < 0)
		return r;
	*ret = VM_OTHER; /* an unknown or empty signature */
	for (size_t i = 0; i < ARRAY_SIZE(cpuid_vendors); i++)
		if (streq(sig, cpuid_vendors[i].sig))
			*ret = cpuid_vendors[i].vm;
	return 0;
}

/* ---- Device tree (Arm, PowerPC, RISC-V) ---- */

static int probe_device_tree_dir(const char *root, const char *dt, struct strlist *ev,
				 const char **ret)
{
	char rel[256], path[4096];
	struct dirent *de;
	char *s;
	DIR *d;
	int r;

	snprintf(rel, sizeof(rel), "%s/hypervisor/compatible", dt);
	r = hostfs_read_line(root, rel, &s); /* "xen,xen-4.4\0xen,xen": first entry */
	if (r == 0) {
		if (streq(s, "linux,kvm"))
			*ret = "kvm";
		else if (strstr(s, "xen"))
			*ret = "xen";
		else if (strstr(s, "vmware"))
			*ret = "vmware";
		else
			*ret = VM_OTHER;
		r = add_evidence(ev, rel, "=", s);
		free(s);
		return r;
	}
	if (no_evidence(r, rel) == -ENOMEM)
		return -ENOMEM;

	/* PowerVM LPAR: HMC-managed partition, not a QEMU pseries machine. */
	snprintf(rel, sizeof(rel), "%s/ibm,partition-name", dt);
	if (hostfs_exists(root, rel) == 0) {
		snprintf(rel, sizeof(rel), "%s/hmc-managed?", dt);
		if (hostfs_exists(root, rel) == 0) {
			snprintf(rel, sizeof(rel), "%s/chosen/qemu,graphic-width", dt);
			if (hostfs_exists(root, rel) != 0) {
				*ret = "powervm";
				snprintf(rel, sizeof(rel), "%s/hmc-managed?", dt);
				return add_evidence(ev, rel, "", NULL);
			}
		}
	}

	r = hostfs_path(root, dt, path, sizeof(path));
	if (r < 0)
		return -ENOENT;
	d = opendir(path);
	if (!d)
		return -ENOENT;
	while ((de = readdir(d))) {
		if (strstr(de->d_name, "fw-cfg")) {
			*ret = "qemu";
			r = add_evidence(ev, dt, "/", de->d_name);
			closedir(d);
			return r;
		}
	}
	closedir(d);

	snprintf(rel, sizeof(rel), "%s/compatible", dt);
	r = hostfs_read_line(root, rel, &s);
	if (r < 0)
		return no_evidence(r, rel);
	r = -ENOENT;
	if (streq(s, "qemu,pseries")) {
		*ret = "qemu";
		r = add_evidence(ev, rel, "=", s);
	}
	free(s);
	return r;
}

static int probe_device_tree(const char *root, struct strlist *ev, const char **ret)
{
	/* /sys/firmware/devicetree/base is where /proc/device-tree points. */
	static const char *const dirs[] = { "proc/device-tree", "sys/firmware/devicetree/base" };
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (hostfs_exists(root, dirs[i]) < 0)
			continue;
		r = probe_device_tree_dir(root, dirs[i], ev, ret);
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

/* ---- z/VM and KVM on s390: /proc/sysinfo "VM00 Control Program:" ---- */

static int probe_zvm(const char *root, struct strlist *ev, const char **ret)
{
	static const char field[] = "VM00 Control Program:";
	char *s, *p, *word;
	size_t n;
	int r;

	r = hostfs_read(root, "proc/sysinfo", 1 << 20, &s, NULL);
	if (r < 0)
		return no_evidence(r, "proc/sysinfo");
	for (p = s; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (startswith(p, field))
			break;
	r = -ENOENT;
	if (p) {
		word = p + strlen(field);
		word += strspn(word, " \t");
		n = strcspn(word, " \t\n");
		word[n] = '\0';
		if (n > 0) {
			*ret = streq(word, "z/VM") ? "zvm" : "kvm";
			r = add_evidence(ev, "proc/sysinfo: VM00 Control Program", "=", word);
		}
	}
	free(s);
	return r;
}

/* ---- The VM decision ---- */

struct vm_sources {
	const char *dmi, *uml, *cpuid, *hv_type, *device_tree, *zvm;
	struct xen_facts xen;
};

static bool in_set(const char *word, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (streq(word, set[i]))
			return true;
	return false;
}

/*
 * systemd's detect_vm() order:
 *  1. DMI, but only its sure answers: oracle, xen, amazon, parallels, google
 *     (VirtualBox, Nitro, ... often run on KVM; Xen may cloak as Hyper-V);
 *  2. UML (a process nested inside any VM);
 *  3. Xen via /proc/xen: a domU is xen; a dom0 is no VM unless CPUID then
 *     shows another hypervisor it is nested in;
 *  4. CPUID (reports KVM even if DMI was rewritten); "Microsoft Hv" only as
 *     a fallback, since QEMU offers Hyper-V enlightenments too;
 *  5. the rest of DMI; 6. /sys/hypervisor/type; 7. device tree; 8. z/VM;
 *  then Hyper-V, then vm-other, from whatever hinted at them.
 * One deviation: in a dom0, a Xen or an empty CPUID signature is Xen itself,
 * not a hypervisor it is nested in (systemd issue #28113 says vm-other there).
 */
static const char *decide_vm(const struct vm_sources *s)
{
	static const char *const dmi_first[] = { "oracle", "xen", "amazon", "parallels", "google" };
	bool hyperv = false, other = false;
	const char *v;

	if (in_set(s->dmi, dmi_first, ARRAY_SIZE(dmi_first)))
		return s->dmi;
	if (!streq(s->uml, NONE))
		return s->uml;
	if (s->xen.proc_xen && s->xen.dom0 != 1)
		return "xen";

	v = s->cpuid;
	if (s->xen.proc_xen && s->xen.dom0 == 1 && (streq(v, "xen") || streq(v, VM_OTHER)))
		v = NONE;
	if (streq(v, "microsoft"))
		hyperv = true;
	else if (streq(v, VM_OTHER))
		other = true;
	else if (!streq(v, NONE))
		return v;

	if (s->xen.proc_xen && s->xen.dom0 == 1)
		return hyperv ? "microsoft" : NONE;

	const char *const later[] = { s->dmi, s->hv_type, s->device_tree, s->zvm };
	for (size_t i = 0; i < ARRAY_SIZE(later); i++) {
		if (streq(later[i], VM_OTHER))
			other = true;
		else if (!streq(later[i], NONE))
			return later[i];
	}
	if (hyperv)
		return "microsoft";
	return other ? VM_OTHER : NONE;
}

/* ---- Containers ---- */

/* Marker files, systemd's detect_container_files(); docker last: .dockerenv
 * can end up in any image. */
static const struct {
	const char *rel;
	const char *container;
} container_files[] = {
	{ "run/.containerenv", "podman" },
	{ ".dockerenv", "docker" },
};

/* Cgroup paths of PID 1 that container engines create when there is no
 * cgroup namespace (cgroup v1 Docker, LXC, Podman). */
static const struct {
	const char *marker;
	const char *container;
} cgroup_markers[] = {
	{ "/docker/", "docker" },
	{ "/docker-", "docker" }, /* systemd cgroup driver: docker-ID.scope */
	{ "/lxc/", "lxc" },
	{ "/lxc.payload", "lxc" },
	{ "/libpod-", "podman" },
	{ "/kubepods", CONTAINER_OTHER },
};

static int probe_container_files(const char *root, struct strlist *ev, const char **ret)
{
	const char *found = NULL;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(container_files); i++) {
		if (hostfs_exists(root, container_files[i].rel) < 0)
			continue;
		r = add_evidence(ev, container_files[i].rel, "", NULL);
		if (r < 0)
			return r;
		if (!found)
			found = container_files[i].container;
	}
	if (!found)
		return -ENOENT;
	*ret = found;
	return 0;
}

/* OpenVZ: /proc/vz exists inside and outside a container, /proc/bc only outside. */
static int probe_openvz(const char *root, struct strlist *ev, const char **ret)
{
	if (hostfs_exists(root, "proc/vz") < 0 || hostfs_exists(root, "proc/bc") != -ENOENT)
		return -ENOENT;
	*ret = "openvz";
	return add_evidence(ev, "proc/vz without proc/bc", "", NULL);
}

/* WSL's documented test (microsoft/WSL issue 423). */
static int probe_wsl(const char *root, struct strlist *ev, const char **ret)
{
	char *s;
	int r;

	r = hostfs_read_line(root, "proc/sys/kernel/osrelease", &s);
	if (r < 0)
		return no_evidence(r, "proc/sys/kernel/osrelease");
	r = -ENOENT;
	if (strstr(s, "Microsoft") || strstr(s, "WSL")) {
		*ret = "wsl";
		r = add_evidence(ev, "proc/sys/kernel/osrelease", "=", s);
	}
	free(s);
	return r;
}

/* proot traces us without a PID namespace: our tracer's name says so. */
static int probe_proot(const char *root, struct strlist *ev, const char **ret)
{
	char rel[64], *s, *p, *comm;
	long pid = 0;
	int r;

	r = hostfs_read(root, "proc/self/status", 64 * 1024, &s, NULL);
	if (r < 0)
		return no_evidence(r, "proc/self/status");
	p = strstr(s, "\nTracerPid:");
	if (p)
		pid = strtol(p + strlen("\nTracerPid:"), NULL, 10);
	free(s);
	if (pid <= 0)
		return -ENOENT;
	snprintf(rel, sizeof(rel), "proc/%ld/comm", pid);
	r = hostfs_read_line(root, rel, &comm);
	if (r < 0)
		return no_evidence(r, rel);
	r = -ENOENT;
	if (startswith(comm, "proot")) {
		*ret = "proot";
		r = add_evidence(ev, rel, "=", comm);
	}
	free(comm);
	return r;
}

/* A non-empty one-line file naming the container manager. */
static int probe_manager_file(const char *root, const char *rel, struct strlist *ev, char **ret)
{
	char *s;
	int r;

	r = hostfs_read_line(root, rel, &s);
	if (r < 0)
		return no_evidence(r, rel);
	if (!*s) {
		free(s);
		return -ENOENT;
	}
	r = add_evidence(ev, rel, "=", s);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

/*
 * $container of PID 1.  Only a privileged reader may see /proc/1/environ
 * (in a container even root gets EACCES): that is no evidence, silently.
 * When we are PID 1 of the real host, our own environment is PID 1's.
 */
static int probe_pid1_environ(const char *root, struct strlist *ev, char **ret)
{
	static const char rel[] = "proc/1/environ";
	char *s, *found = NULL;
	size_t len;
	int r;

	if (hostfs_is_host(root) && getpid() == 1) {
		const char *e = getenv("container");

		if (!e)
			return -ENOENT;
		found = strdup(e);
		if (!found)
			return -ENOMEM;
	} else {
		r = hostfs_read(root, rel, 1 << 20, &s, &len);
		if (r < 0)
			return no_evidence(r, rel);
		for (size_t i = 0; i < len; i += strlen(s + i) + 1)
			if (startswith(s + i, "container=")) {
				found = strdup(s + i + strlen("container="));
				if (!found) {
					free(s);
					return -ENOMEM;
				}
			}
		free(s);
		if (!found)
			return -ENOENT;
	}
	r = add_evidence(ev, "proc/1/environ: container", "=", found);
	if (r < 0) {
		free(found);
		return r;
	}
	*ret = found;
	return 0;
}

static int probe_cgroup(const char *root, struct strlist *ev, const char **ret)
{
	char *s, *line;
	int r;

	r = hostfs_read(root, "proc/1/cgroup", 1 << 20, &s, NULL);
	if (r < 0)
		return no_evidence(r, "proc/1/cgroup");
	r = -ENOENT;
	/* "ID:CONTROLLERS:PATH" lines; only PATH matters. */
	for (line = s; line && *line && r == -ENOENT;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		char *c = strchr(line, ':');
		char *path = c ? strchr(c + 1, ':') : NULL;
		size_t n;

		if (!path)
			continue;
		path++;
		n = strcspn(path, "\n");
		for (size_t i = 0; i < ARRAY_SIZE(cgroup_markers); i++) {
			const char *m = strstr(path, cgroup_markers[i].marker);

			if (m && (size_t)(m - path) < n) {
				*ret = cgroup_markers[i].container;
				r = add_evidence(ev, "proc/1/cgroup: ", "",
						 cgroup_markers[i].marker);
				break;
			}
		}
	}
	free(s);
	return r;
}

/* A $container value in systemd's words; "oci" names no manager: ask the
 * files; an empty value (PID 1's way of saying "no container") is none. */
static const char *container_from_name(const char *name, const char *files)
{
	if (!*name)
		return NONE;
	if (streq(name, "oci"))
		return streq(files, NONE) ? CONTAINER_OTHER : files;
	/* the words systemd's container_table knows, from the vocabulary:
	 * every container word but none, openvz (a /proc/vz probe, never a
	 * $container value) and container-other; others are container-other */
	switch (virt_container_from_string(name)) {
	case -1:
	case VIRT_CONTAINER_NONE:
	case VIRT_CONTAINER_OPENVZ:
	case VIRT_CONTAINER_OTHER:
		return CONTAINER_OTHER;
	default:
		return virt_container_to_string(
			(enum virt_container)virt_container_from_string(name));
	}
}

struct container_sources {
	const char *openvz, *wsl, *proot, *files, *cgroup;
	char *host_manager; /* /run/host/container-manager */
	char *pid1_env;	    /* $container of PID 1 */
	char *run_systemd;  /* /run/systemd/container */
};

/*
 * systemd's detect_container() order: OpenVZ, WSL, proot,
 * /run/host/container-manager, $container of PID 1 when we are PID 1,
 * /run/systemd/container, $container of PID 1 from /proc/1/environ, the
 * marker files (.containerenv, .dockerenv).  Then, our addition in place of
 * systemd's cgroup-namespace test: PID 1's cgroup path.
 */
static const char *decide_container(const struct container_sources *s, bool pid1)
{
	const char *const fixed[] = { s->openvz, s->wsl, s->proot };
	const char *const named[] = { s->host_manager, pid1 ? s->pid1_env : NULL, s->run_systemd,
				      pid1 ? NULL : s->pid1_env };

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (!streq(fixed[i], NONE))
			return fixed[i];
	for (size_t i = 0; i < ARRAY_SIZE(named); i++)
		if (named[i])
			return container_from_name(named[i], s->files);
	if (!streq(s->files, NONE))
		return s->files;
	return s->cgroup;
}

/* ---- Putting it together ---- */

static int probe_or_none(int r, const char **word)
{
	if (r == -ENOENT)
		*word = NONE;
	return r == -ENOENT ? 0 : r;
}

/*
 * A PV domain (a PV domU, or a classic dom0) runs its CPUID instructions on
 * the CPU unless Xen traps them (CPUID faulting, which not every CPU or
 * nested setup has): leaf 0x40000000 then shows whatever lies beneath Xen
 * (TCGTCGTCGTCG inside QEMU, KVMKVMKVM nested in KVM, nothing on bare
 * metal).  The hypervisor this domain runs on is Xen, known from the Xen
 * interfaces; the raw signature stays in the evidence.
 */
static int xen_pv_vendor(struct virt_info *vi, const struct xen_facts *x, const char *sig)
{
	static const char XEN_SIG[] = "XenVMMXenVMM";
	bool pv = streq(x->guest_type, "PV") || (!x->guest_type[0] && x->dom0 == 1);

	if (!pv || streq(sig, XEN_SIG))
		return 0;
	snprintf(vi->hypervisor_vendor, sizeof(vi->hypervisor_vendor), "%s", XEN_SIG);
	return strlist_addf(&vi->evidence,
			    "cpuid: not trapped in a Xen PV domain (raw signature: %s); the "
			    "hypervisor is Xen",
			    sig[0] ? sig : "none");
}

static int detect_vm(const char *root, struct virt_info *vi)
{
	struct vm_sources s = { NONE, NONE, NONE, NONE, NONE, NONE, { .dom0 = -1 } };
	char sig[13];
	int r;

	if ((r = probe_or_none(probe_dmi(root, &vi->evidence, &s.dmi), &s.dmi)) < 0 ||
	    (r = probe_or_none(probe_uml(root, &vi->evidence, &s.uml), &s.uml)) < 0 ||
	    (r = probe_xen(root, &vi->evidence, &s.xen)) < 0 ||
	    (r = probe_or_none(probe_cpuid(root, &vi->evidence, sig, &s.cpuid), &s.cpuid)) < 0 ||
	    (r = probe_or_none(probe_hypervisor_type(root, &s.hv_type), &s.hv_type)) < 0 ||
	    (r = probe_or_none(probe_device_tree(root, &vi->evidence, &s.device_tree),
			       &s.device_tree)) < 0 ||
	    (r = probe_or_none(probe_zvm(root, &vi->evidence, &s.zvm), &s.zvm)) < 0)
		return r;

	snprintf(vi->vm, sizeof(vi->vm), "%s", decide_vm(&s));
	snprintf(vi->hypervisor_vendor, sizeof(vi->hypervisor_vendor), "%s", sig);

	/* Under Xen: a Xen domain shows itself, or the VM answer is Xen (an HVM
	 * guest without xenfs mounted). */
	if (s.xen.proc_xen || s.xen.dom0 >= 0 || s.xen.hv_type_xen || streq(vi->vm, "xen")) {
		snprintf(vi->xen_domain, sizeof(vi->xen_domain), "%s",
			 s.xen.dom0 == 1 ? "dom0" : "domU");
		snprintf(vi->xen_guest_type, sizeof(vi->xen_guest_type), "%s", s.xen.guest_type);
		r = xen_pv_vendor(vi, &s.xen, sig);
		if (r < 0)
			return r;
	}
	return 0;
}

static int detect_container(const char *root, struct virt_info *vi)
{
	struct container_sources s = { NONE, NONE, NONE, NONE, NONE, NULL, NULL, NULL };
	struct strlist *ev = &vi->evidence;
	int r;

	if ((r = probe_or_none(probe_openvz(root, ev, &s.openvz), &s.openvz)) < 0 ||
	    (r = probe_or_none(probe_wsl(root, ev, &s.wsl), &s.wsl)) < 0 ||
	    (r = probe_or_none(probe_proot(root, ev, &s.proot), &s.proot)) < 0)
		return r;
	/* Every source is read (for the evidence); decide_container picks. */
	r = probe_manager_file(root, "run/host/container-manager", ev, &s.host_manager);
	if (r == 0 || r == -ENOENT)
		r = probe_manager_file(root, "run/systemd/container", ev, &s.run_systemd);
	if (r == 0 || r == -ENOENT)
		r = probe_pid1_environ(root, ev, &s.pid1_env);
	if (r == -ENOENT)
		r = 0;
	if (r == 0)
		r = probe_or_none(probe_container_files(root, ev, &s.files), &s.files);
	if (r == 0)
		r = probe_or_none(probe_cgroup(root, ev, &s.cgroup), &s.cgroup);
	if (r == 0)
		snprintf(vi->container, sizeof(vi->container), "%s",
			 decide_container(&s, hostfs_is_host(root) && getpid() == 1));
	free(s.host_manager);
	free(s.pid1_env);
	free(s.run_systemd);
	return r;
}

/*
 * Role: a host in a Xen dom0, whatever it is nested in (it runs domUs; the
 * contract says so), or where /dev/kvm exists and no VM was found (this
 * kernel can run KVM guests); a guest when a VM was found; else none.
 */
static int detect_role(const char *root, struct virt_info *vi)
{
	bool kvm = hostfs_exists(root, "dev/kvm") == 0;
	int r;

	if (kvm) {
		r = add_evidence(&vi->evidence, "dev/kvm", "", NULL);
		if (r < 0)
			return r;
	}
	if (streq(vi->xen_domain, "dom0"))
		snprintf(vi->role, sizeof(vi->role), "host");
	else if (!streq(vi->vm, NONE))
		snprintf(vi->role, sizeof(vi->role), "guest");
	else if (kvm)
		snprintf(vi->role, sizeof(vi->role), "host");
	else
		snprintf(vi->role, sizeof(vi->role), "none");
	return 0;
}

int virt_detect(const char *root, struct virt_info *ret)
{
	struct virt_info vi = { .vm = "none", .container = "none", .role = "none" };
	int r;

	r = detect_vm(root, &vi);
	if (r == 0)
		r = detect_container(root, &vi);
	if (r == 0)
		r = detect_role(root, &vi);
	if (r < 0) {
		virt_info_free(&vi);
		return r;
	}
	*ret = vi;
	return 0;
}
