/* atomic-file.c - write a file whole or not at all (temp file + rename) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/atomic-file.h"

int atomic_file_open(const char *path, struct atomic_file *ret)
{
	struct atomic_file af = { 0 };
	int fd;

	af.path = strdup(path);
	if (!af.path || asprintf(&af.tmp, "%s.tmp.XXXXXX", path) < 0) {
		free(af.path);
		return -ENOMEM;
	}
	fd = mkstemp(af.tmp);
	if (fd < 0) {
		int r = -errno;

		free(af.path);
		free(af.tmp);
		return r;
	}
	/* mkstemp makes it 0600; a textfile is read by another user. */
	if (fchmod(fd, 0644) < 0 || !(af.f = fdopen(fd, "w"))) {
		int r = -errno;

		close(fd);
		unlink(af.tmp);
		free(af.path);
		free(af.tmp);
		return r;
	}
	*ret = af;
	return 0;
}

static void atomic_file_free(struct atomic_file *af)
{
	free(af->path);
	free(af->tmp);
	af->path = af->tmp = NULL;
	af->f = NULL;
}

int atomic_file_commit(struct atomic_file *af)
{
	int r = 0;

	if (fflush(af->f) != 0 || ferror(af->f) || fsync(fileno(af->f)) < 0)
		r = -(errno ? errno : EIO);
	if (fclose(af->f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(af->tmp, af->path) < 0)
		r = -errno;
	if (r < 0)
		unlink(af->tmp);
	atomic_file_free(af);
	return r;
}

void atomic_file_discard(struct atomic_file *af)
{
	if (af->f)
		fclose(af->f);
	if (af->tmp)
		unlink(af->tmp);
	atomic_file_free(af);
}
