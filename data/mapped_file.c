/* Read-only memory maps of whole files (CIFAR batches, token files). MAP_PRIVATE|PROT_READ: the
 * file's pages are shared with the page cache, and a file replaced on disk while mapped keeps
 * its old contents for us until it is unmapped. */
#include "data_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

bool ct__map_file(ct__mapped_file *m, const char *path, const char *who) {
    memset(m, 0, sizeof *m);
    if (!path) return ct_error(CT_ERR_ARG, "%s: path is NULL", who), false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        return ct_error(CT_ERR_IO, "%s: cannot open %s: %s", who, path, strerror(e)), false;
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return ct_error(CT_ERR_IO, "%s: cannot open %s: %s", who, path, strerror(EISDIR)), false;
    }
    m->size = (size_t)st.st_size;
    if (m->size > 0) { /* mmap of length 0 is EINVAL: an empty file maps to NULL */
        void *p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            memset(m, 0, sizeof *m);
            return ct_error(CT_ERR_IO, "%s: cannot map %s: %s", who, path, strerror(e)), false;
        }
        m->data = p;
    }
    close(fd); /* the mapping keeps the file */
    m->path = strdup(path);
    if (!m->path) {
        ct__unmap_file(m);
        return ct_error(CT_ERR_OOM, "%s: out of memory", who), false;
    }
    return true;
}

void ct__unmap_file(ct__mapped_file *m) {
    if (m->data) munmap((void *)m->data, m->size);
    free(m->path);
    memset(m, 0, sizeof *m);
}
