/* vocab.c - the agent's word sets: one string table per enum */
#include <string.h>

#include "lib/strlist.h"
#include "model/vocab.h"

static const char *const vm_table[VIRT_VM_MAX] = {
	[VIRT_VM_NONE] = "none",     [VIRT_VM_KVM] = "kvm",
	[VIRT_VM_AMAZON] = "amazon", [VIRT_VM_QEMU] = "qemu",
	[VIRT_VM_BOCHS] = "bochs",   [VIRT_VM_XEN] = "xen",
	[VIRT_VM_UML] = "uml",	     [VIRT_VM_VMWARE] = "vmware",
	[VIRT_VM_ORACLE] = "oracle", [VIRT_VM_MICROSOFT] = "microsoft",
	[VIRT_VM_ZVM] = "zvm",	     [VIRT_VM_PARALLELS] = "parallels",
	[VIRT_VM_BHYVE] = "bhyve",   [VIRT_VM_QNX] = "qnx",
	[VIRT_VM_ACRN] = "acrn",     [VIRT_VM_POWERVM] = "powervm",
	[VIRT_VM_APPLE] = "apple",   [VIRT_VM_SRE] = "sre",
	[VIRT_VM_GOOGLE] = "google", [VIRT_VM_OTHER] = "vm-other",
};

static const char *const container_table[VIRT_CONTAINER_MAX] = {
	[VIRT_CONTAINER_NONE] = "none",
	[VIRT_CONTAINER_SYSTEMD_NSPAWN] = "systemd-nspawn",
	[VIRT_CONTAINER_LXC_LIBVIRT] = "lxc-libvirt",
	[VIRT_CONTAINER_LXC] = "lxc",
	[VIRT_CONTAINER_OPENVZ] = "openvz",
	[VIRT_CONTAINER_DOCKER] = "docker",
	[VIRT_CONTAINER_PODMAN] = "podman",
	[VIRT_CONTAINER_RKT] = "rkt",
	[VIRT_CONTAINER_WSL] = "wsl",
	[VIRT_CONTAINER_PROOT] = "proot",
	[VIRT_CONTAINER_POUCH] = "pouch",
	[VIRT_CONTAINER_OTHER] = "container-other",
};

static const char *const condition_table[VIRT_COND_MAX] = {
	[VIRT_COND_VM] = "vm",
	[VIRT_COND_CONTAINER] = "container",
	[VIRT_COND_XEN_DOM0] = "xen-dom0",
	[VIRT_COND_XEN_DOMU] = "xen-domU",
};

static const char *const exit_table[EXIT_STATUS_MAX] = {
	[EXIT_OK] = "ok",
	[EXIT_NOT_IN_SYNC] = "not-in-sync",
	[EXIT_USAGE] = "usage",
	[EXIT_ENV] = "environment",
};

static const char *const exit_meaning_table[EXIT_STATUS_MAX] = {
	[EXIT_OK] = "success; for check, in sync",
	[EXIT_NOT_IN_SYNC] = "check: not in sync; apply, watch: the desired state could not be "
			     "reached, whatever was changed was rolled back",
	[EXIT_USAGE] = "invalid usage or invalid desired state: nothing was touched",
	[EXIT_ENV] = "environment error: not permitted, namespace or interface family "
		     "unavailable, lock held too long",
};

static const char *to_string(const char *const *table, size_t n, int v)
{
	return v >= 0 && (size_t)v < n ? table[v] : NULL;
}

static int from_string(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(table[i], s) == 0)
			return (int)i;
	return -1;
}

const char *virt_vm_to_string(enum virt_vm v)
{
	return to_string(vm_table, ARRAY_SIZE(vm_table), (int)v);
}

const char *virt_container_to_string(enum virt_container c)
{
	return to_string(container_table, ARRAY_SIZE(container_table), (int)c);
}

const char *virt_condition_to_string(enum virt_condition c)
{
	return to_string(condition_table, ARRAY_SIZE(condition_table), (int)c);
}

const char *exit_status_to_string(enum exit_status e)
{
	return to_string(exit_table, ARRAY_SIZE(exit_table), (int)e);
}

const char *exit_status_meaning(enum exit_status e)
{
	return to_string(exit_meaning_table, ARRAY_SIZE(exit_meaning_table), (int)e);
}

int virt_vm_from_string(const char *s)
{
	return from_string(vm_table, ARRAY_SIZE(vm_table), s);
}

int virt_container_from_string(const char *s)
{
	return from_string(container_table, ARRAY_SIZE(container_table), s);
}

int virt_condition_from_string(const char *s)
{
	return from_string(condition_table, ARRAY_SIZE(condition_table), s);
}
