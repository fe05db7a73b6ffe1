/* test-report.c - report_merge(): apply --per-interface builds a report per
 * interface and merges it into the one the plan's notes went into first */
#include <errno.h>

#include "lib/json-writer.h"
#include "model/desired-state.h"
#include "model/report.h"
#include "unit.h"

static char *json_of(const struct report *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;

	if (!f || jw_open(&w, f, 0) < 0)
		return NULL;
	report_write_json(&w, rep);
	jw_close(&w);
	fclose(f);
	return buf;
}

int main(void)
{
	struct ds_location loc = { "a.yaml", 7, 5 };
	struct report rep, one, other;
	const struct report_iface *e;
	char *j;

	/* the plan's notes (before apply) */
	report_init(&rep);
	CHECK(report_add_unreachable(&rep, "enX0", "tx-checksum-ipv4", false, "tx", &loc) == 0);
	CHECK(report_add_unreachable(&rep, "enX1", "tx-checksum-ipv4", false, "tx", &loc) == 0);

	/* what applying enX0 alone made */
	report_init(&one);
	CHECK(report_add_change(&one, "enX0", "tx-checksum-ipv6", true, false, &loc) == 0);
	CHECK(report_add_change(&one, "enX0", "tx-scatter-gather", true, false, &loc) == 0);
	CHECK(report_add_side_effect(&one, "enX0", "tx-tcp-segmentation", true, false) == 0);
	CHECK(report_merge(&rep, &one) == 0);
	CHECK(one.n_ifaces == 0);

	e = report_iface_find(&rep, "enX0");
	CHECK(e && e->n_unreachable == 1 && e->n_changes == 2 && e->n_side_effects == 1);
	CHECK(e && e->n_changes > 1 && strcmp(e->changes[1].feature, "tx-scatter-gather") == 0);
	CHECK(e && e->n_unreachable && strcmp(e->unreachable[0].feature, "tx-checksum-ipv4") == 0);
	e = report_iface_find(&rep, "enX1");
	CHECK(e && e->n_unreachable == 1 && e->n_changes == 0);

	/* a new interface is added after the others, as first reported */
	report_init(&other);
	CHECK(report_add_change(&other, "enX2", "rx-gro", true, false, NULL) == 0);
	CHECK(report_merge(&rep, &other) == 0);
	CHECK(rep.n_ifaces == 3 && strcmp(rep.ifaces[2].name, "enX2") == 0);

	/* many changes merged onto an entry that has some (capacity grows) */
	for (int k = 0; k < 40; k++) {
		char name[32];

		snprintf(name, sizeof(name), "feature-%d", k);
		report_init(&one);
		CHECK(report_add_change(&one, "enX1", name, true, false, &loc) == 0);
		CHECK(report_merge(&rep, &one) == 0);
	}
	e = report_iface_find(&rep, "enX1");
	CHECK(e && e->n_changes == 40 && e->n_unreachable == 1);
	CHECK(e && e->n_changes > 39 && strcmp(e->changes[39].feature, "feature-39") == 0);

	j = json_of(&rep);
	CHECK(j && strstr(j, "\"enX0\":{\"changes\":[{\"feature\":\"tx-checksum-ipv6\""));
	CHECK(j && strstr(j, "\"unreachable\":[{\"feature\":\"tx-checksum-ipv4\""));
	free(j);
	report_free(&rep);
	return unit_done();
}
