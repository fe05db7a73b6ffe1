/* facts-load.c - read a saved facts document back into the model */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include <unistd.h>

#include "host/facts-load.h"
#include "host/input.h"

/* The groups of a facts document (rings, channels, ...): a group absent
 * from the document stays not read; null is read and not supported. */
static void load_settings(struct iface *ifc, json_t *ifj)
{
	struct iface_settings *s = &ifc->settings;

	for (int g = 0; g < SG_MAX; g++) {
		json_t *grp = json_object_get(ifj, setting_group_name((enum setting_group)g));
		json_t *max;
		unsigned int first, end;

		if (!grp)
			continue;
		s->read |= (uint8_t)(1u << g);
		if (!json_is_object(grp))
			continue;
		s->supported |= (uint8_t)(1u << g);
		max = json_object_get(grp, "max");
		setting_group_range((enum setting_group)g, &first, &end);
		for (unsigned int p = first; p < end; p++) {
			json_t *v = json_object_get(grp, setting_defs[p].name);
			json_t *m = json_object_get(max, setting_defs[p].name);

			if (json_is_boolean(v))
				s->value[p] = json_is_true(v);
			else if (json_is_integer(v) && json_integer_value(v) >= 0 &&
				 json_integer_value(v) <= UINT32_MAX)
				s->value[p] = (uint32_t)json_integer_value(v);
			else
				continue;
			s->present |= setting_bit(p);
			if (json_is_integer(m) && json_integer_value(m) >= 0 &&
			    json_integer_value(m) <= UINT32_MAX) {
				s->max[p] = (uint32_t)json_integer_value(m);
				s->has_max |= setting_bit(p);
			}
		}
	}
}

static int fail(struct strlist *errors, const char *path, const char *what)
{
	strlist_addf(errors, "%s: %s", path, what);
	return -EINVAL;
}

static void copy_str(char *dst, size_t len, json_t *v)
{
	snprintf(dst, len, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* What the device does (facts of agents since the advice; older documents
 * leave them unknown: nothing forwards, nothing is a port, no XDP). */
static void load_link_role(struct iface *ifc, json_t *ifj)
{
	static const char *const xdp_modes[] = { "native", "generic", "offload", "multi" };
	json_t *fwd = json_object_get(ifj, "forwarding"), *xdp = json_object_get(ifj, "xdp");
	const char *const fam[2] = { "ipv4", "ipv6" };

	copy_str(ifc->master, sizeof(ifc->master), json_object_get(ifj, "master"));
	copy_str(ifc->master_kind, sizeof(ifc->master_kind), json_object_get(ifj, "master_kind"));
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(fwd, fam[i]);

		ifc->forwarding[i] = json_is_boolean(v) ? json_is_true(v) : -1;
	}
	ifc->xdp = NULL;
	for (size_t i = 0; json_is_string(xdp) && i < sizeof(xdp_modes) / sizeof(xdp_modes[0]); i++)
		if (strcmp(json_string_value(xdp), xdp_modes[i]) == 0)
			ifc->xdp = xdp_modes[i];
	if (json_is_string(xdp) && !ifc->xdp)
		ifc->xdp = "multi"; /* attached, in a mode this agent does not name */
	ifc->have_link_role = json_object_get(ifj, "forwarding") != NULL;
}

int facts_load(const char *path, struct host_state *ret_hs, struct virt_info *ret_vi,
	       struct strlist *errors)
{
	struct host_state hs = { 0 };
	struct virt_info vi;
	json_error_t jerr;
	json_t *doc, *virt, *ifs, *xen, *ifj;
	const char *ifname;
	int r = 0;

	if (strcmp(path, "-") == 0) {
		doc = json_loadf(stdin, 0, &jerr);
	} else {
		struct stat st;
		int fd = input_open(path, &st);

		if (fd == -EINVAL || fd == -EISDIR) {
			strlist_addf(errors, "refusing '%s': it is %s, not a regular file", path,
				     input_type_name(st.st_mode));
			return -EINVAL;
		}
		if (fd < 0) {
			strlist_addf(errors, "cannot read '%s': %s", path, strerror(-fd));
			return -EINVAL;
		}
		doc = json_loadfd(fd, 0, &jerr);
		close(fd);
	}
	if (!doc) {
		strlist_addf(errors, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	if (json_object_get(doc, "offloadctl")) { /* facter format */
		json_t *inner = json_incref(json_object_get(doc, "offloadctl"));

		json_decref(doc);
		doc = inner;
	}
	virt = json_object_get(doc, "virtualization");
	ifs = json_object_get(doc, "interfaces");
	if (!json_is_object(virt) || !json_is_object(ifs)) {
		json_decref(doc);
		return fail(errors, path,
			    "not a facts document (no 'virtualization' or 'interfaces')");
	}
	copy_str(hs.kernel_release, sizeof(hs.kernel_release),
		 json_object_get(json_object_get(doc, "kernel"), "release"));
	memset(&vi, 0, sizeof(vi));
	copy_str(vi.vm, sizeof(vi.vm), json_object_get(virt, "vm"));
	copy_str(vi.container, sizeof(vi.container), json_object_get(virt, "container"));
	copy_str(vi.role, sizeof(vi.role), json_object_get(virt, "role"));
	xen = json_object_get(virt, "xen");
	if (json_is_object(xen)) {
		copy_str(vi.xen_domain, sizeof(vi.xen_domain), json_object_get(xen, "domain"));
		copy_str(vi.xen_guest_type, sizeof(vi.xen_guest_type),
			 json_object_get(xen, "guest_type"));
	}

	json_object_foreach(ifs, ifname, ifj) {
		json_t *features = json_object_get(ifj, "features"), *st;
		const char *fname;
		struct iface *ifc;

		if (!json_is_object(features)) {
			r = fail(errors, path,
				 "the facts have no 'features' maps (use 'offloadctl facts' or "
				 "--full)");
			break;
		}
		ifc = host_state_add(&hs);
		if (!ifc) {
			r = -ENOMEM;
			break;
		}
		snprintf(ifc->name, sizeof(ifc->name), "%s", ifname);
		ifc->ifindex = (int)json_integer_value(json_object_get(ifj, "ifindex"));
		copy_str(ifc->kind, sizeof(ifc->kind), json_object_get(ifj, "kind"));
		copy_str(ifc->driver, sizeof(ifc->driver), json_object_get(ifj, "driver"));
		copy_str(ifc->module, sizeof(ifc->module), json_object_get(ifj, "module"));
		copy_str(ifc->mac, sizeof(ifc->mac), json_object_get(ifj, "mac"));
		load_link_role(ifc, ifj);
		load_settings(ifc, ifj);
		ifc->operstate = "unknown";
		ifc->have_features = true;
		json_object_foreach(features, fname, st) {
			int idx = feature_names_index(&hs.names, fname);

			if (idx < 0) {
				char **v;

				if (hs.names.count >= FEAT_MAX_BITS) {
					r = fail(errors, path, "too many features");
					goto out;
				}
				v = realloc(hs.names.names, (hs.names.count + 1) * sizeof(*v));
				if (!v || !(v[hs.names.count] = strdup(fname))) {
					if (v)
						hs.names.names = v;
					r = -ENOMEM;
					goto out;
				}
				hs.names.names = v;
				idx = (int)hs.names.count++;
			}
			featbits_set(&ifc->active, (unsigned int)idx,
				     json_is_true(json_object_get(st, "active")));
			featbits_set(&ifc->wanted, (unsigned int)idx,
				     json_is_true(json_object_get(st, "requested")));
			featbits_set(&ifc->hw, (unsigned int)idx,
				     !json_is_true(json_object_get(st, "fixed")));
		}
	}
out:
	json_decref(doc);
	if (r < 0) {
		host_state_free(&hs);
		return r;
	}
	host_state_sort(&hs); /* a document written by hand may be in any order */
	*ret_hs = hs;
	*ret_vi = vi;
	return 0;
}
