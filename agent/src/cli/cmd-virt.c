/* cmd-virt.c - `offloadctl virt` */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "host/virt-detect.h"
#include "lib/json-writer.h"
#include "lib/log.h"

int cmd_virt(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "brief", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct virt_info vi;
	bool brief = false;
	struct jw w;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			brief = true;
			break;
		case 'h':
			fputs(command_find("virt")->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("virt", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("virt", "unexpected argument '%s'", argv[optind]);

	r = virt_detect(g->root, &vi);
	if (r < 0) {
		log_error("cannot detect virtualisation: %s", strerror(-r));
		return EXIT_ENV;
	}
	if (brief) {
		puts(virt_brief(&vi));
	} else {
		r = out_open(&w);
		if (r == 0) {
			virt_write(&w, &vi, false);
			r = out_close(&w, true);
		}
	}
	virt_info_free(&vi);
	if (r < 0) {
		log_error("cannot print the virtualisation facts: %s", strerror(-r));
		return EXIT_ENV;
	}
	return EXIT_OK;
}
