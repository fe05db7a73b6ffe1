/* virt.c - PLACEHOLDER until the virt helper lands its implementation */
#include <errno.h>
#include <string.h>
#include "virt.h"
int virt_detect(const char *root, struct virt_info *ret) { (void)root; memset(ret, 0, sizeof(*ret)); strcpy(ret->vm, "none"); strcpy(ret->container, "none"); strcpy(ret->role, "none"); return 0; }
json_t *virt_to_json(const struct virt_info *vi) { return json_pack("{s:s,s:s,s:s}", "vm", vi->vm, "container", vi->container, "role", vi->role); }
const char *virt_brief(const struct virt_info *vi) { return vi->vm; }
void virt_info_free(struct virt_info *vi) { strlist_free(&vi->evidence); }
