/* main.c - offloadctl: global options and the command table */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "lib/log.h"
#include "version.h"

const struct command commands[] = {
	{ "facts", cmd_facts, "print virtualisation and interface offload facts (JSON)",
	  "Usage: offloadctl [GLOBAL OPTIONS] facts [OPTIONS] [IFACE|GLOB ...]\n"
	  "\n"
	  "Print the facts document: virtualisation and, for every interface (or the\n"
	  "named ones), its link facts, the ethtool -k summary (offloads) and every\n"
	  "kernel feature (features).  Needs no privilege.\n"
	  "\n"
	  "Options:\n"
	  "  --format FORMAT   json (default), facter, ansible or prometheus; facter\n"
	  "                    and ansible leave out the per-feature maps unless --full\n"
	  "                    is given and never print null (such keys are left out),\n"
	  "                    facter wraps the document as {\"offloadctl\": ...};\n"
	  "                    prometheus prints node_exporter textfile metrics\n"
	  "  --full            keep the per-kernel-feature maps in facter/ansible format\n"
	  "  --output FILE     write to FILE atomically (a temporary file renamed over\n"
	  "                    it), e.g. into node_exporter's textfile directory\n"
	  "  -h, --help        show this help\n" },
	{ "virt", cmd_virt, "print the virtualisation facts",
	  "Usage: offloadctl [GLOBAL OPTIONS] virt [--brief]\n"
	  "\n"
	  "Print the virtualization object: VM and container (systemd-detect-virt's\n"
	  "words), the role (guest, host, none), the Xen domain and guest type (PV, HVM,\n"
	  "PVH), the CPUID hypervisor vendor and the evidence behind each.\n"
	  "\n"
	  "Options:\n"
	  "  --brief           print one word as systemd-detect-virt does: the container\n"
	  "                    if any, else the VM, else none\n"
	  "  -h, --help        show this help\n" },
	{ "show", cmd_show, "show interfaces' offloads side by side, for people",
	  "Usage: offloadctl [GLOBAL OPTIONS] show [OPTIONS] [IFACE|GLOB ...]\n"
	  "\n"
	  "A table: one column per interface, one row per ethtool -k line.  Fixed\n"
	  "features are marked '*', requested-but-refused ones '!'.  Interfaces with\n"
	  "pending advice are marked '+' and the advice is listed below the table\n"
	  "(offloadctl advise explains it).\n"
	  "\n"
	  "Options:\n"
	  "  --all             every kernel feature, not only the ethtool summary lines\n"
	  "  --settings        a second table: rings, channels, coalesce, pause and EEE\n"
	  "                    (VALUE/MAX; - where the driver has none)\n"
	  "  --json            the same as JSON: per interface, each line's active, fixed,\n"
	  "                    partly_fixed and refused, its settings, and the pending\n"
	  "                    advice\n"
	  "  -h, --help        show this help\n" },
	{ "advise", cmd_advise, "known-bad offload combinations on this host, with sources",
	  "Usage: offloadctl [GLOBAL OPTIONS] advise [OPTIONS] [IFACE|GLOB ...]\n"
	  "\n"
	  "Check this host (or a saved facts document) against the advice knowledge\n"
	  "base compiled into offloadctl (docs/advice.md) and print what fires: the\n"
	  "interface, the advice id, what goes wrong, the settings that avoid it (for\n"
	  "that interface only) and the sources.  Changes nothing; needs no privilege.\n"
	  "Advice is pending until its settings hold; followed advice is listed with\n"
	  "--all.  Exit 0 whether or not advice fires.\n"
	  "\n"
	  "Options:\n"
	  "  --json            print the advice as JSON\n"
	  "  --desired-state   print a desired state (YAML) whose rules follow the\n"
	  "                    advice, one rule per interface; 'validate' accepts it\n"
	  "  --id ID           only this advice (repeatable)\n"
	  "  --all             followed advice too\n"
	  "  --list-ids        print the ids of the knowledge base, one a line\n"
	  "  --facts FILE      a saved facts document (offloadctl facts output, '-' for\n"
	  "                    stdin) instead of this host\n"
	  "  -h, --help        show this help\n" },
	{ "validate", cmd_validate, "check a desired state file; touches nothing",
	  "Usage: offloadctl [GLOBAL OPTIONS] validate [OPTIONS] [FILE ...]\n"
	  "\n"
	  "Parse and check the desired state: the configuration set\n"
	  "(/etc/offloadctl/offloadctl.yaml, then conf.d/*.yaml), or the FILEs given,\n"
	  "or '-' for standard input.  Every error names file:line:column.  A feature\n"
	  "name outside offloadctl's own table is a warning, not an error: the running\n"
	  "kernel decides at check and apply.  Touches nothing and needs no privilege.\n"
	  "Exit 0 when valid, 2 when not.\n"
	  "\n"
	  "Options:\n"
	  "  --json            print {valid, files, rules, features, errors, warnings}\n"
	  "  --kernel          judge feature names by this host's kernel, as check does:\n"
	  "                    a name it lacks is an error (for a wrapper's validation\n"
	  "                    on the host it configures)\n"
	  "  -q, --quiet       print nothing on success\n"
	  "  -h, --help        show this help\n" },
	{ "names", cmd_names, "the words offloadctl knows: virtualisation, features, exit codes",
	  "Usage: offloadctl [GLOBAL OPTIONS] names [--json]\n"
	  "\n"
	  "Print the agent's vocabulary: the virtualisation words (VM, container,\n"
	  "the conditions of match.virtualization), ethtool's legacy feature names\n"
	  "with the kernel features they stand for, the kernel feature names known\n"
	  "without a kernel, the exit codes and the words of each 'defaults' key.\n"
	  "The JSON Schemas and the wrappers are checked against it.\n"
	  "\n"
	  "Options:\n"
	  "  --json            print it as JSON\n"
	  "  -h, --help        show this help\n" },
	{ "check", cmd_check, "compare the desired state with the interfaces",
	  "Usage: offloadctl [GLOBAL OPTIONS] check [OPTIONS] [FILE ...]\n"
	  "\n"
	  "Compare the desired state with the interfaces and print what apply would\n"
	  "change.  Exit 0 when in sync, 1 when not, 2 for a bad desired state.\n"
	  "\n"
	  "Options:\n"
	  "  --json            print the change report as JSON\n"
	  "  --facts FILE      plan against a saved facts document (offloadctl facts\n"
	  "                    output, '-' for stdin) instead of this host's kernel\n"
	  "  -i, --interface GLOB  only these interfaces (repeatable)\n"
	  "  -I, --ifname NAME only the interface named exactly NAME (repeatable;\n"
	  "                    no wildcards: 'e[1]' is the name e[1])\n"
	  "  --all-scopes      the host scope, then each named namespace's scope\n"
	  "                    (CONFIG/netns/NAME/) inside that namespace\n"
	  "  -h, --help        show this help\n" },
	{ "apply", cmd_apply, "reach the desired state, verify it, roll back on failure",
	  "Usage: offloadctl [GLOBAL OPTIONS] apply [OPTIONS] [FILE ...]\n"
	  "\n"
	  "Change the interfaces' features to the desired state.  Only features that\n"
	  "differ are sent; the kernel's reply is checked, and when any interface\n"
	  "cannot hold what was asked, every interface changed in this run is put\n"
	  "back.  Needs CAP_NET_ADMIN.  Exit 0 on success, 1 when the state could not\n"
	  "be reached (rolled back), 2 for a bad desired state, 3 when not permitted\n"
	  "or the lock is held.\n"
	  "\n"
	  "Options:\n"
	  "  -n, --dry-run     print what would change, change nothing\n"
	  "  --json            print the change report as JSON\n"
	  "  --lock-timeout S  wait at most S seconds for another run (default 30)\n"
	  "  -i, --interface GLOB  only these interfaces (repeatable)\n"
	  "  -I, --ifname NAME only the interface named exactly NAME (repeatable; the\n"
	  "                    udev rule passes the new interface's name this way)\n"
	  "  --all-scopes      the host scope, then each named namespace's scope\n"
	  "                    (CONFIG/netns/NAME/) inside that namespace (the boot\n"
	  "                    unit uses it)\n"
	  "  --per-interface   each interface on its own: one that cannot take its\n"
	  "                    rules is left or rolled back alone, the others still\n"
	  "                    converge (the boot unit uses it); exit 1 if any failed\n"
	  "  -h, --help        show this help\n" },
	{ "watch", cmd_watch, "apply, then keep the desired state: hot-plug, drift, reload",
	  "Usage: offloadctl [GLOBAL OPTIONS] watch [--metrics-file FILE] [FILE ...]\n"
	  "\n"
	  "Apply the desired state, then stay running: an interface that appears or\n"
	  "is renamed gets the rules that match it, a feature that drifts from the\n"
	  "desired state is put back (and logged: interface, feature, from, to).\n"
	  "Bursts of events are coalesced; a setting the kernel refuses is retried\n"
	  "with back-off.  The configuration set (or the FILEs) is watched with\n"
	  "inotify and reloaded when it changes, before anything is reverted; SIGHUP\n"
	  "reloads too.  A broken new configuration is reported and the old one\n"
	  "stays in force.  SIGTERM and SIGINT exit 0.  One line per event on\n"
	  "stderr; nothing when nothing happens.  Needs CAP_NET_ADMIN and the\n"
	  "ethtool netlink family (Linux 5.6+).\n"
	  "\n"
	  "Without FILE or --netns it keeps every scope: the host's, and each named\n"
	  "namespace's (CONFIG/netns/NAME/) in a watch of its own, started when the\n"
	  "namespace and its scope appear and stopped when either goes.  One watch\n"
	  "per namespace: a second one names the first and exits 3.\n"
	  "\n"
	  "Options:\n"
	  "  --metrics-file FILE  after every pass, write watch's counters (passes,\n"
	  "                    reverts, changes, failed passes, reloads) to FILE in\n"
	  "                    node_exporter's textfile format, atomically\n"
	  "  -h, --help        show this help\n" },
	{ NULL, NULL, NULL, NULL },
};

static const char global_help[] =
	"Usage: offloadctl [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
	"\n"
	"See and keep NIC offloads (ethtool -k / -K) on virtual and physical hosts.\n"
	"\n"
	"Commands:\n"
	"%s"
	"  help COMMAND    show a command's help\n"
	"\n"
	"Global options:\n"
	"  --netns NAME|PATH  act inside a network namespace (/run/netns/NAME or a path\n"
	"                     such as /proc/PID/ns/net); with a NAME and no FILE the\n"
	"                     rules are NAME's scope, CONFIG/netns/NAME/*.yaml\n"
	"  --root DIR         read /proc, /sys, /run, /etc and /dev beneath DIR for\n"
	"                     virtualisation facts\n"
	"  --backend NAME     netlink (ethtool genetlink family), ioctl (SIOCETHTOOL),\n"
	"                     or auto (default: netlink, ioctl when the family is missing)\n"
	"  --config-dir DIR   configuration directory (default /etc/offloadctl)\n"
	"  -v, --verbose      say more (twice for debug)\n"
	"  -q, --quiet        only errors\n"
	"  --version          print the version\n"
	"  -h, --help         show this help\n"
	"\n"
	"Exit status: 0 success (check: in sync), 1 not in sync or not reached (rolled\n"
	"back), 2 bad usage or desired state, 3 environment (privilege, namespace, lock).\n"
	"See offloadctl(8) and offloadctl.yaml(5).\n";

const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("offloadctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd)
		fprintf(stderr, "Try 'offloadctl %s --help'.\n", cmd);
	else
		fputs("Try 'offloadctl --help'.\n", stderr);
	return EXIT_USAGE;
}

static void print_global_help(FILE *f)
{
	char list[2048];
	size_t off = 0;

	list[0] = '\0';
	for (const struct command *c = commands; c->name; c++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "  %-14s  %s\n", c->name,
					c->summary);
	fprintf(f, global_help, list);
}

static int run_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_global_help(stdout);
		return EXIT_OK;
	}
	c = command_find(argv[1]);
	if (!c)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	fputs(c->usage, stdout);
	return EXIT_OK;
}

enum {
	OPT_NETNS = 256,
	OPT_ROOT,
	OPT_BACKEND,
	OPT_CONFIG_DIR,
	OPT_VERSION
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, OPT_NETNS },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "config-dir", required_argument, NULL, OPT_CONFIG_DIR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct global_opts g = { .config_dir = DEFAULT_CONFIG_DIR, .backend = "auto" };
	const struct command *c;
	int opt, rc;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_NETNS:
			g.netns = optarg;
			break;
		case OPT_ROOT: {
			struct stat st;

			if (stat(optarg, &st) < 0 || !S_ISDIR(st.st_mode))
				return usage_error(NULL, "--root '%s' is not a directory", optarg);
			g.root = optarg;
			break;
		}
		case OPT_BACKEND:
			if (strcmp(optarg, "netlink") && strcmp(optarg, "ioctl") &&
			    strcmp(optarg, "auto"))
				return usage_error(
					NULL,
					"unknown backend '%s' (expected netlink, ioctl or auto)",
					optarg);
			g.backend = optarg;
			break;
		case OPT_CONFIG_DIR:
			g.config_dir = optarg;
			break;
		case 'v':
			log_level++;
			break;
		case 'q':
			log_level = -1;
			break;
		case OPT_VERSION:
			printf("offloadctl %s\n", OFFLOADCTL_VERSION);
			return EXIT_OK;
		case 'h':
			print_global_help(stdout);
			return EXIT_OK;
		case '?':
		default:
			if (optopt)
				return usage_error(NULL, "unknown or incomplete option '-%c'",
						   optopt);
			return usage_error(NULL, "unknown or incomplete option '%s'",
					   argv[optind - 1]);
		}
	}

	if (optind >= argc)
		return usage_error(NULL, "no command given");
	if (strcmp(argv[optind], "help") == 0)
		return run_help(argc - optind, argv + optind);
	c = command_find(argv[optind]);
	if (!c)
		return usage_error(NULL, "unknown command '%s'", argv[optind]);

	/* Each command parses its own options from a fresh getopt state. */
	argc -= optind;
	argv += optind;
	optind = 0;
	opterr = 0;
	rc = c->run(&g, argc, argv);
	/* Output that did not reach its reader (a full disk, /dev/full, a
	 * closed pipe) is no success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_error("cannot write the output: %s", strerror(errno ? errno : EIO));
		if (rc == EXIT_OK || rc == EXIT_NOT_IN_SYNC)
			rc = EXIT_ENV;
	}
	return rc;
}
