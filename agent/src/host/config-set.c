/* config-set.c - the configuration set on disk: which files, in which order,
 * read bounded and without blocking, then parsed by the model
 * (desired_state_parse_buffer)
 *
 * The set is confdir/offloadctl.yaml then confdir/conf.d/ *.yaml in name
 * order; a namespace's scope is confdir/netns/NAME/ *.yaml.  One rule names
 * a drop-in (config_set_is_dropin_name), for the loader, apply's list of
 * scopes and watch alike.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/config-set.h"
#include "host/input.h"
#include "lib/strlist.h"

/* Read at most DS_MAX_FILE_SIZE + 1 bytes: enough to tell a file is too big
 * without holding all of it.  Returns 0 or a negative errno. */
static int read_bounded(int fd, char **ret_buf, size_t *ret_len)
{
	size_t cap = DS_MAX_FILE_SIZE + 1, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* Read a regular file (never block on a FIFO planted in conf.d); *ret_st
 * is what was opened.  -EINVAL: not a regular file (*ret_st says what). */
static int read_path(const char *path, char **ret_buf, size_t *ret_len, struct stat *ret_st)
{
	int fd, r;

	memset(ret_st, 0, sizeof(*ret_st));
	if (strcmp(path, "-") == 0)
		return read_bounded(STDIN_FILENO, ret_buf, ret_len);
	fd = input_open(path, ret_st);
	if (fd < 0)
		return fd;
	r = read_bounded(fd, ret_buf, ret_len);
	close(fd);
	return r;
}

/* Read and parse one file; a file that cannot be read is an error unless
 * ENOENT is tolerated (then -ENOENT comes back with no message). */
static int load_one(struct desired_state *ds, const char *path, bool enoent_ok,
		    struct strlist *errors)
{
	bool is_stdin = strcmp(path, "-") == 0;
	struct ds_file_stat *fs;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_path(path, &buf, &len, &st);
	if (r == -ENOENT && enoent_ok)
		return r;
	if (r == -ENOMEM)
		return r;
	if (r == -EINVAL || r == -EISDIR)
		return strlist_addf(errors, "refusing '%s': it is %s, not a regular file", path,
				    input_type_name(st.st_mode)) < 0
			       ? -ENOMEM
			       : r;
	if (r < 0)
		return strlist_addf(errors, "cannot read '%s': %s", path, strerror(-r)) < 0
			       ? -ENOMEM
			       : r;
	r = desired_state_parse_buffer(ds, is_stdin ? "<stdin>" : path, buf, len, errors);
	free(buf);
	if (is_stdin || r == -ENOMEM)
		return r;
	fs = realloc(ds->file_stats, (ds->n_file_stats + 1) * sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	ds->file_stats = fs;
	fs[ds->n_file_stats++] = (struct ds_file_stat){ ds->files.items[ds->files.n - 1], st };
	return r;
}

/* Combine results: -ENOMEM wins, then the first error. */
static int worse(int acc, int r)
{
	if (acc == -ENOMEM || r == -ENOMEM)
		return -ENOMEM;
	return acc < 0 ? acc : r;
}

int config_set_load_files(struct desired_state *ds, char *const *paths, size_t n,
			  struct strlist *errors)
{
	int acc = 0;

	for (size_t i = 0; i < n && acc != -ENOMEM; i++)
		acc = worse(acc, load_one(ds, paths[i], false, errors));
	return acc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool config_set_is_dropin_name(const char *name)
{
	size_t len = strlen(name);

	/* Hidden files are editors' and package managers' leftovers. */
	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".yaml") == 0;
}

bool config_set_is_scope_name(const char *name)
{
	/* hidden entries are leftovers, as for drop-ins */
	return name[0] != '.';
}

/* dir/ *.yaml in name order; *ret_n is how many there were.  A missing dir
 * is fine (0). */
static int load_dropins(struct desired_state *ds, const char *dir_path, size_t *ret_n,
			struct strlist *errors)
{
	struct strlist names = { 0 };
	struct dirent *de;
	int acc = 0;
	DIR *d;

	*ret_n = 0;
	d = opendir(dir_path);
	if (!d && errno != ENOENT && errno != ENOTDIR) {
		int e = errno;

		return strlist_addf(errors, "cannot read '%s': %s", dir_path, strerror(e)) < 0
			       ? -ENOMEM
			       : -e;
	}
	while (d && (errno = 0, de = readdir(d))) {
		if (!config_set_is_dropin_name(de->d_name))
			continue;
		if (strlist_add(&names, de->d_name) < 0) {
			acc = -ENOMEM;
			break;
		}
	}
	if (d)
		closedir(d);
	if (acc != -ENOMEM && names.n)
		qsort(names.items, names.n, sizeof(names.items[0]), cmp_names);
	for (size_t i = 0; i < names.n && acc != -ENOMEM; i++) {
		char *path;

		if (asprintf(&path, "%s/%s", dir_path, names.items[i]) < 0) {
			acc = -ENOMEM;
			break;
		}
		acc = worse(acc, load_one(ds, path, false, errors));
		free(path);
	}
	*ret_n = names.n;
	strlist_free(&names);
	return acc;
}

int config_set_load_confdir(struct desired_state *ds, const char *confdir, struct strlist *errors)
{
	const char *sep = confdir[0] && confdir[strlen(confdir) - 1] == '/' ? "" : "/";
	char *main_path = NULL, *dir_path = NULL;
	bool have_main;
	size_t n = 0;
	int acc = 0, r;

	if (asprintf(&main_path, "%s%soffloadctl.yaml", confdir, sep) < 0)
		return -ENOMEM;
	if (asprintf(&dir_path, "%s%sconf.d", confdir, sep) < 0) {
		free(main_path);
		return -ENOMEM;
	}
	r = load_one(ds, main_path, true, errors);
	have_main = r != -ENOENT;
	if (have_main)
		acc = worse(acc, r);
	if (acc != -ENOMEM)
		acc = worse(acc, load_dropins(ds, dir_path, &n, errors));
	if (acc == 0 && !have_main && n == 0)
		acc = strlist_addf(errors,
				   "no configuration: neither '%s' nor '%s/*.yaml' exist; "
				   "give a FILE or create one",
				   main_path, dir_path) < 0
			      ? -ENOMEM
			      : -ENOENT;
	free(main_path);
	free(dir_path);
	return acc;
}

int config_set_load_scope(struct desired_state *ds, const char *confdir, const char *name,
			  struct strlist *errors)
{
	const char *sep = confdir[0] && confdir[strlen(confdir) - 1] == '/' ? "" : "/";
	char *dir_path = NULL;
	size_t n = 0;
	int acc;

	if (asprintf(&dir_path, "%s%snetns/%s", confdir, sep, name) < 0)
		return -ENOMEM;
	acc = load_dropins(ds, dir_path, &n, errors);
	if (acc == 0 && n == 0)
		acc = strlist_addf(errors,
				   "no configuration for network namespace '%s': no '%s/*.yaml' "
				   "(its scope); give a FILE or create one",
				   name, dir_path) < 0
			      ? -ENOMEM
			      : -ENOENT;
	free(dir_path);
	return acc;
}

bool config_set_dir_has_dropins(const char *dir)
{
	struct dirent *de;
	bool any = false;
	DIR *d = opendir(dir);

	while (d && !any && (de = readdir(d)))
		any = config_set_is_dropin_name(de->d_name);
	if (d)
		closedir(d);
	return any;
}

bool config_set_host_exists(const char *confdir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/offloadctl.yaml", confdir);
	if (access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "%s/conf.d", confdir);
	return config_set_dir_has_dropins(path);
}

int config_set_scopes(const char *confdir, const char *netns_dir, struct strlist *ret,
		      struct strlist *ret_no_netns)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "%s/netns", confdir);
	d = opendir(path);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while (r == 0 && (de = readdir(d))) {
		char dir[PATH_MAX * 2], ns[PATH_MAX * 2];

		if (!config_set_is_scope_name(de->d_name))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", path, de->d_name);
		if (!config_set_dir_has_dropins(dir))
			continue;
		snprintf(ns, sizeof(ns), "%s/%s", netns_dir, de->d_name);
		if (access(ns, F_OK) < 0) {
			if (ret_no_netns)
				r = strlist_add(ret_no_netns, de->d_name);
			continue;
		}
		r = strlist_add(ret, de->d_name);
	}
	closedir(d);
	if (ret->n)
		qsort(ret->items, ret->n, sizeof(ret->items[0]), cmp_names);
	return r;
}

bool config_set_has_scopes(const char *confdir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/netns", confdir);
	return access(path, F_OK) == 0;
}
