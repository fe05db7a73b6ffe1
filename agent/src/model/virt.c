/* virt.c - the virtualisation facts as the model holds them: the words of
 * match.virtualization, how they match, and the contract's JSON object */
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "model/virt.h"
#include "model/vocab.h"

bool virt_word_known(const char *word)
{
	return virt_vm_from_string(word) >= 0 || virt_container_from_string(word) >= 0 ||
	       virt_condition_from_string(word) >= 0;
}

bool virt_matches(const struct virt_info *vi, const char *word)
{
	const char *none = virt_vm_to_string(VIRT_VM_NONE);
	bool in_vm = strcmp(vi->vm, none) != 0;
	bool in_container = strcmp(vi->container, none) != 0;

	switch (virt_condition_from_string(word)) {
	case VIRT_COND_XEN_DOM0:
		return strcmp(vi->xen_domain, "dom0") == 0;
	case VIRT_COND_XEN_DOMU:
		return strcmp(vi->xen_domain, "domU") == 0;
	case VIRT_COND_VM:
		return in_vm;
	case VIRT_COND_CONTAINER:
		return in_container;
	default:
		break;
	}
	if (strcmp(word, none) == 0)
		return !in_vm && !in_container && !vi->xen_domain[0];
	/* a dom0 runs Xen without being a VM of it */
	if (virt_vm_from_string(word) == VIRT_VM_XEN)
		return strcmp(vi->vm, word) == 0 || vi->xen_domain[0];
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
	if (strcmp(vi->container, virt_container_to_string(VIRT_CONTAINER_NONE)) != 0)
		return vi->container;
	return vi->vm;
}

void virt_info_free(struct virt_info *vi)
{
	strlist_free(&vi->evidence);
}
