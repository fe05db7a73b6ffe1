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

void virt_write(struct jw *w, const struct virt_info *vi, bool no_null)
{
	jw_object_begin(w);
	jw_kv_string(w, "vm", vi->vm);
	jw_kv_string(w, "container", vi->container);
	jw_kv_string(w, "role", vi->role);
	if (vi->xen_domain[0]) {
		jw_key(w, "xen");
		jw_object_begin(w);
		jw_kv_string(w, "domain", vi->xen_domain);
		if (vi->xen_guest_type[0] || !no_null) {
			jw_key(w, "guest_type");
			jw_string_or_null(w, vi->xen_guest_type);
		}
		jw_object_end(w);
	}
	if (vi->hypervisor_vendor[0] || !no_null) {
		jw_key(w, "hypervisor_vendor");
		jw_string_or_null(w, vi->hypervisor_vendor);
	}
	jw_key(w, "evidence");
	jw_array_begin(w);
	for (size_t i = 0; i < vi->evidence.n; i++) {
		/* Evidence quotes host files: any bytes, made valid (names.h). */
		char *safe = name_json_dup(vi->evidence.items[i]);

		if (safe)
			jw_string(w, safe);
		else
			jw_null(w);
		free(safe);
	}
	jw_array_end(w);
	jw_object_end(w);
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
