/* last-good.c - the last configuration that validated, kept for the boot */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/config-set.h"
#include "host/input.h"
#include "host/last-good.h"

#define MAX_SAVED_FILE (DS_MAX_FILE_SIZE + 1)

const char *last_good_dir(void)
{
	static char path[PATH_MAX];
	const char *base = getenv("OFFLOADCTL_STATE_DIR");

	snprintf(path, sizeof(path), "%s/last-good", base && *base ? base : "/var/lib/offloadctl");
	return path;
}

static int read_all(const char *path, char **ret, size_t *ret_len)
{
	char *buf = malloc(MAX_SAVED_FILE);
	size_t len = 0;
	int fd = input_open(path, NULL);

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return fd < 0 ? fd : -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, MAX_SAVED_FILE - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;

			close(fd);
			free(buf);
			return r;
		}
		if (n == 0 || (len += (size_t)n) == MAX_SAVED_FILE)
			break;
	}
	close(fd);
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int write_all(int dfd, const char *name, const char *buf, size_t len)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = 0;

	if (fd < 0)
		return -errno;
	while (len && r == 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			buf += n, len -= (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

/* The saved file for the i-th file: its order first, so that name order
 * is file order (defaults: the last file that sets a key wins). */
static void saved_name(char *buf, size_t len, size_t i, const char *path)
{
	const char *base = strrchr(path, '/');

	snprintf(buf, len, "%04zu-%s", i, base ? base + 1 : path);
}

/* True when dir already holds exactly these files with these contents. */
static bool same_as_saved(const char *dir, char **bufs, const size_t *lens, char **names, size_t n)
{
	size_t count = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return false;
	while ((de = readdir(d)))
		count += de->d_name[0] != '.';
	closedir(d);
	if (count != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX + NAME_MAX + 2], *old;
		size_t len;
		bool same;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (read_all(path, &old, &len) < 0)
			return false;
		same = len == lens[i] && memcmp(old, bufs[i], len) == 0;
		free(old);
		if (!same)
			return false;
	}
	return true;
}

int last_good_save(const struct desired_state *ds)
{
	const char *dir = last_good_dir();
	size_t n = ds->n_file_stats;
	char **bufs = calloc(n ? n : 1, sizeof(*bufs));
	char **names = calloc(n ? n : 1, sizeof(*names));
	size_t *lens = calloc(n ? n : 1, sizeof(*lens));
	char tmp[PATH_MAX + 32], old[PATH_MAX + 32], parent[PATH_MAX];
	int r = 0, dfd = -1;

	if (!bufs || !names || !lens) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		char name[NAME_MAX + 1];

		saved_name(name, sizeof(name), i, ds->file_stats[i].path);
		names[i] = strdup(name);
		r = names[i] ? read_all(ds->file_stats[i].path, &bufs[i], &lens[i]) : -ENOMEM;
	}
	if (r < 0 || same_as_saved(dir, bufs, lens, names, n))
		goto out;

	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	if (mkdir(parent, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s.new-%ld", dir, (long)getpid());
	snprintf(old, sizeof(old), "%s.old-%ld", dir, (long)getpid());
	remove_tree(tmp);
	if (mkdir(tmp, 0700) < 0) {
		r = -errno;
		goto out;
	}
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		r = -errno;
	for (size_t i = 0; i < n && r == 0; i++)
		r = write_all(dfd, names[i], bufs[i], lens[i]);
	if (r == 0) {
		/* the old copy aside, the new one in: never a moment without
		 * one on disk that a crash could leave */
		if (rename(dir, old) < 0 && errno != ENOENT)
			r = -errno;
		else if (rename(tmp, dir) < 0)
			r = -errno;
		remove_tree(old);
	}
	if (r < 0)
		remove_tree(tmp);
out:
	if (dfd >= 0)
		close(dfd);
	for (size_t i = 0; i < n; i++) {
		free(bufs ? bufs[i] : NULL);
		free(names ? names[i] : NULL);
	}
	free(bufs);
	free(names);
	free(lens);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int last_good_load(struct desired_state *ds, struct strlist *errors, time_t *ret_saved)
{
	const char *dir = last_good_dir();
	struct strlist names = { 0 };
	struct dirent *de;
	struct stat st;
	char **paths = NULL;
	int r = 0;
	DIR *d;

	desired_state_init(ds);
	d = opendir(dir);
	if (!d)
		return -errno;
	if (fstat(dirfd(d), &st) == 0 && ret_saved)
		*ret_saved = st.st_mtime;
	while ((de = readdir(d)) && r == 0)
		if (de->d_name[0] != '.')
			r = strlist_add(&names, de->d_name);
	closedir(d);
	if (r == 0 && names.n == 0)
		r = -ENOENT;
	if (r == 0) {
		qsort(names.items, names.n, sizeof(names.items[0]), cmp_names);
		paths = calloc(names.n, sizeof(*paths));
		if (!paths)
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < names.n; i++)
		if (asprintf(&paths[i], "%s/%s", dir, names.items[i]) < 0)
			r = -ENOMEM;
	if (r == 0)
		r = config_set_load_files(ds, paths, names.n, errors);
	for (size_t i = 0; paths && i < names.n; i++)
		free(paths[i]);
	free(paths);
	strlist_free(&names);
	return r;
}
