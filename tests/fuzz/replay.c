// SPDX-License-Identifier: GPL-3.0-or-later
// A main for the fuzz targets without libFuzzer: runs the target over every
// file named on the command line, and every file in every folder named
// (not recursively), in name order, so the corpus and the regression
// inputs run in the normal build and under the sanitizers and valgrind.
// Exit 0 when all of them ran; a finding aborts, as under libFuzzer.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    rp_strbuf b;
    rp_strbuf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rp_strbuf_append(&b, chunk, n);
    int bad = ferror(f) || b.failed;
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        rp_strbuf_deinit(&b);
        return -1;
    }
    // libFuzzer hands the target a buffer of exactly the input's size, so
    // that ASan sees a read past its end.
    size_t len = b.len;
    uint8_t *data = malloc(len ? len : 1);
    if (data && len)
        memcpy(data, b.s, len);
    rp_strbuf_deinit(&b);
    if (!data)
        return -1;
    LLVMFuzzerTestOneInput(data, len);
    free(data);
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count)
{
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "replay: cannot open %s\n", dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int st = 0;
    struct dirent *e;
    while (!st && (e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        if (rp_grow((void **)&names, &cap, n + 1, sizeof *names) ||
            !(names[n] = rp_strdup(e->d_name)))
            st = -1;
        else
            n++;
    }
    closedir(dp);
    if (n)
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (!st && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            st = run_file(path);
            *count += st == 0;
        }
        free(names[i]);
    }
    free(names);
    return st;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: no such file or folder: %s\n", argv[i]);
            return 1;
        }
        int st = S_ISDIR(sb.st_mode) ? run_dir(argv[i], &count) : run_file(argv[i]);
        if (st)
            return 1;
        count += !S_ISDIR(sb.st_mode);
    }
    printf("replay: %zu inputs\n", count);
    return 0;
}
