/* virt.h - virtualisation facts: which VM, which container, which Xen domain */
#pragma once

#include <stdbool.h>
#include "lib/json-writer.h"
#include "lib/strlist.h"

struct virt_info {
	char vm[32];		    /* systemd-detect-virt --vm word, or "none" */
	char container[32];	    /* systemd-detect-virt --container word, or "none" */
	char role[8];		    /* "guest", "host" or "none" */
	char xen_domain[8];	    /* "dom0" or "domU" under Xen, else "" */
	char xen_guest_type[8];	    /* "PV", "HVM" or "PVH"; "" when unknown (null) */
	char hypervisor_vendor[16]; /* CPUID leaf 0x40000000 signature, "" = null */
	struct strlist evidence;    /* "proc/xen/capabilities: control_d", ... */
};

/* The contract's "virtualization" object, into w; with no_null, what would
 * be null is left out (the facter and ansible formats). */
void virt_write(struct jw *w, const struct virt_info *vi, bool no_null);

/* One word as `systemd-detect-virt` prints it: the container if any, else
 * the VM, else "none". */
const char *virt_brief(const struct virt_info *vi);

void virt_info_free(struct virt_info *vi);

/* True for a word a desired state may use in match.virtualization:
 * a VM or container word, "none", "xen-dom0" or "xen-domU". */
bool virt_word_known(const char *word);

/* True when the host condition word holds for vi. */
bool virt_matches(const struct virt_info *vi, const char *word);
