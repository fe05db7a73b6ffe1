/* cli.h - what the command layer shares between commands */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "model/vocab.h" /* exit codes */

#define DEFAULT_CONFIG_DIR "/etc/offloadctl"

struct global_opts {
	const char *netns;	/* --netns NAME|PATH */
	const char *root;	/* --root DIR, for virtualisation facts */
	const char *backend;	/* --backend netlink|ioctl|auto */
	const char *config_dir; /* --config-dir DIR, default /etc/offloadctl */
};

struct command {
	const char *name;
	int (*run)(const struct global_opts *g, int argc, char **argv);
	const char *summary;
	const char *usage; /* full help text of the command */
};

/* Print "offloadctl: MESSAGE" and "Try 'offloadctl COMMAND --help'" and return EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Every command, defined in its cmd-*.c file. */
int cmd_facts(const struct global_opts *g, int argc, char **argv);
int cmd_show(const struct global_opts *g, int argc, char **argv);
int cmd_virt(const struct global_opts *g, int argc, char **argv);
int cmd_validate(const struct global_opts *g, int argc, char **argv);
int cmd_check(const struct global_opts *g, int argc, char **argv);
int cmd_apply(const struct global_opts *g, int argc, char **argv);
int cmd_watch(const struct global_opts *g, int argc, char **argv);
int cmd_advise(const struct global_opts *g, int argc, char **argv);
int cmd_names(const struct global_opts *g, int argc, char **argv);

struct advice_list;
struct host_state;
struct jw;
/* "  IFACE: ID (CONFIDENCE): SUMMARY", one line per pending hit (show). */
void advice_print_brief(struct jw *w, const struct host_state *hs, const struct advice_list *l);

/* Standard output through the one writer (lib/json-writer.h): a JSON
 * document indented by 2, as every command prints one, or text.  Returns 0
 * or -ENOMEM. */
int out_open(struct jw *w);
/* End it (json: a line break after the document) and write out what is
 * buffered.  Returns 0 or the writer's error (json-writer.h). */
int out_close(struct jw *w, bool json);

extern const struct command commands[];
const struct command *command_find(const char *name);

struct desired_state;
/* Load the FILEs given, or the configuration set of g->config_dir; prints
 * every error.  Returns 0 or an exit code (EXIT_USAGE for a bad state). */
int desired_state_load_cli(const struct global_opts *g, int nfiles, char **files,
			   struct desired_state *ds);

struct backend;
struct host_state;
/* Enter --netns, open the backend and read every interface.  Prints what
 * went wrong; returns 0 or an exit code (EXIT_ENV). */
int host_open(const struct global_opts *g, struct backend **ret_b, struct host_state *ret_hs);
/* As host_open(); without link_facts the interfaces come from the feature
 * dump alone (no kind, mac, driver, operstate): see backend_read_host_features(). */
int host_open_read(const struct global_opts *g, struct backend **ret_b, struct host_state *ret_hs,
		   bool link_facts);
/* Open the --backend asked for (no namespace entered, nothing read);
 * prints what went wrong; returns 0 or an exit code (EXIT_ENV). */
int open_backend(const struct global_opts *g, struct backend **ret_b);
/* "cannot read interfaces (BACKEND backend): ERROR: kernel reports: ..." */
void log_read_error(const struct backend *b, int err);
/* Enter --netns only; returns 0 or an exit code. */
int enter_netns(const struct global_opts *g);
/* CAP_NET_ADMIN in the effective set: may we change interfaces? */
bool have_net_admin(void);
/* The configuration set validated: keep a copy as the last good one (only
 * for the system's own set, or with $OFFLOADCTL_STATE_DIR).  Quiet. */
void config_save_last_good(const struct global_opts *g, int nfiles, const struct desired_state *ds);
/* The configuration set is invalid: load the last good copy into ds and
 * say so loudly.  0 when loaded, else EXIT_USAGE. */
int config_load_last_good(const struct global_opts *g, int nfiles, struct desired_state *ds);
/* apply and watch trust only files that no one but root (or the user
 * running them) can write, as sshd does; prints why.  0 or EXIT_USAGE. */
int config_check_permissions(const struct global_opts *g, int nfiles,
			     const struct desired_state *ds);
