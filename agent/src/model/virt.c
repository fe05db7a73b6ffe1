/* virt.c - the virtualisation facts as the model holds them: the words of
 * match.virtualization, how they match, and the contract's JSON object */
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "model/virt.h"

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

static json_t *string_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

json_t *virt_to_json(const struct virt_info *vi)
{
	json_t *o = json_object(), *ev = json_array();

	if (!o || !ev) {
		json_decref(o);
		json_decref(ev);
		return NULL;
	}
	json_object_set_new(o, "vm", json_string(vi->vm));
	json_object_set_new(o, "container", json_string(vi->container));
	json_object_set_new(o, "role", json_string(vi->role));
	if (vi->xen_domain[0])
		json_object_set_new(o, "xen",
				    json_pack("{s:s,s:o}", "domain", vi->xen_domain, "guest_type",
					      string_or_null(vi->xen_guest_type)));
	json_object_set_new(o, "hypervisor_vendor", string_or_null(vi->hypervisor_vendor));
	for (size_t i = 0; i < vi->evidence.n; i++) {
		/* Evidence quotes host files: any bytes, made valid (names.h). */
		char *safe = name_json_dup(vi->evidence.items[i]);

		json_array_append_new(ev, safe ? json_string(safe) : NULL);
		free(safe);
	}
	json_object_set_new(o, "evidence", ev);
	return o;
}

const char *virt_brief(const struct virt_info *vi)
{
	if (strcmp(vi->container, "none") != 0)
		return vi->container;
	return vi->vm;
}

void virt_info_free(struct virt_info *vi)
{
	strlist_free(&vi->evidence);
}
