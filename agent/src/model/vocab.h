/* vocab.h - the agent's word sets: each an enum with one string table, as
 * systemd's virt.c keeps its words
 *
 * `offloadctl names --json` exports them (with ethtool's legacy names and
 * the static table of kernel feature names, features.h), and the JSON
 * Schemas, the wrappers and the tests compare against that export, not
 * against this file's text.
 */
#pragma once

#include <stddef.h>

/* systemd-detect-virt --vm words (systemd's virtualization_table). */
enum virt_vm {
	VIRT_VM_NONE,
	VIRT_VM_KVM,
	VIRT_VM_AMAZON,
	VIRT_VM_QEMU,
	VIRT_VM_BOCHS,
	VIRT_VM_XEN,
	VIRT_VM_UML,
	VIRT_VM_VMWARE,
	VIRT_VM_ORACLE,
	VIRT_VM_MICROSOFT,
	VIRT_VM_ZVM,
	VIRT_VM_PARALLELS,
	VIRT_VM_BHYVE,
	VIRT_VM_QNX,
	VIRT_VM_ACRN,
	VIRT_VM_POWERVM,
	VIRT_VM_APPLE,
	VIRT_VM_SRE,
	VIRT_VM_GOOGLE,
	VIRT_VM_OTHER,
	VIRT_VM_MAX
};

/* systemd-detect-virt --container words. */
enum virt_container {
	VIRT_CONTAINER_NONE,
	VIRT_CONTAINER_SYSTEMD_NSPAWN,
	VIRT_CONTAINER_LXC_LIBVIRT,
	VIRT_CONTAINER_LXC,
	VIRT_CONTAINER_OPENVZ,
	VIRT_CONTAINER_DOCKER,
	VIRT_CONTAINER_PODMAN,
	VIRT_CONTAINER_RKT,
	VIRT_CONTAINER_WSL,
	VIRT_CONTAINER_PROOT,
	VIRT_CONTAINER_POUCH,
	VIRT_CONTAINER_OTHER,
	VIRT_CONTAINER_MAX
};

/* The host conditions a rule's match.virtualization takes beside the VM and
 * container words ("none" is one of those). */
enum virt_condition {
	VIRT_COND_VM,	     /* any VM */
	VIRT_COND_CONTAINER, /* any container */
	VIRT_COND_XEN_DOM0,
	VIRT_COND_XEN_DOMU,
	VIRT_COND_MAX
};

/* Exit status of every command (CONTRACT.md). */
enum exit_status {
	EXIT_OK = 0,
	EXIT_NOT_IN_SYNC = 1, /* check: differs; apply/watch: could not reach, rolled back */
	EXIT_USAGE = 2,	      /* bad usage or bad desired state; nothing touched */
	EXIT_ENV = 3,	      /* not permitted, namespace or family unavailable, lock */
	EXIT_STATUS_MAX
};

/* The word of a value, or NULL out of range. */
const char *virt_vm_to_string(enum virt_vm v);
const char *virt_container_to_string(enum virt_container c);
const char *virt_condition_to_string(enum virt_condition c);
/* "ok", "not-in-sync", "usage", "environment" */
const char *exit_status_to_string(enum exit_status e);
/* What the status means, in a line (CONTRACT.md's table). */
const char *exit_status_meaning(enum exit_status e);

/* The value of a word, or -1. */
int virt_vm_from_string(const char *s);
int virt_container_from_string(const char *s);
int virt_condition_from_string(const char *s);
