/* virt-words.c - the words of match.virtualization and how they match */
#include <string.h>

#include "virt.h"

/* systemd-detect-virt's words (src/basic/virt.c virtualization_table). */
static const char *const vm_words[] = {
	"kvm",	   "amazon",	"qemu", "bochs",     "xen",	 "uml", "vmware",
	"oracle",  "microsoft", "zvm",	"parallels", "bhyve",	 "qnx", "acrn",
	"powervm", "apple",	"sre",	"google",    "vm-other",
};

static const char *const container_words[] = {
	"systemd-nspawn",  "lxc-libvirt", "lxc", "openvz", "docker",
	"podman",	   "rkt",	  "wsl", "proot",  "pouch",
	"container-other",
};

bool virt_word_known(const char *word)
{
	for (size_t i = 0; i < sizeof(vm_words) / sizeof(vm_words[0]); i++)
		if (strcmp(word, vm_words[i]) == 0)
			return true;
	for (size_t i = 0; i < sizeof(container_words) / sizeof(container_words[0]); i++)
		if (strcmp(word, container_words[i]) == 0)
			return true;
	return strcmp(word, "none") == 0 || strcmp(word, "xen-dom0") == 0 ||
	       strcmp(word, "xen-domU") == 0 || strcmp(word, "vm") == 0 ||
	       strcmp(word, "container") == 0;
}

bool virt_matches(const struct virt_info *vi, const char *word)
{
	bool in_vm = strcmp(vi->vm, "none") != 0;
	bool in_container = strcmp(vi->container, "none") != 0;

	if (strcmp(word, "xen-dom0") == 0)
		return strcmp(vi->xen_domain, "dom0") == 0;
	if (strcmp(word, "xen-domU") == 0)
		return strcmp(vi->xen_domain, "domU") == 0;
	if (strcmp(word, "xen") == 0)
		return strcmp(vi->vm, "xen") == 0 || vi->xen_domain[0];
	if (strcmp(word, "vm") == 0)
		return in_vm;
	if (strcmp(word, "container") == 0)
		return in_container;
	if (strcmp(word, "none") == 0)
		return !in_vm && !in_container && !vi->xen_domain[0];
	return strcmp(word, vi->vm) == 0 || strcmp(word, vi->container) == 0;
}
