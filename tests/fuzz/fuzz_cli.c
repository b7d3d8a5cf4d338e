/* fuzz_cli.c: libFuzzer target for the command-line parsing: the input,
 * split at NUL bytes, is the argument list of `wprior`.  It runs in an
 * empty folder with absolute paths and ".." refused, so no command finds a
 * file to read or overwrite; what is fuzzed is every option parser and
 * its error paths. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"

#define MAX_ARGS 24

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char dir[] = "/tmp/wprior-fuzz-cli-XXXXXX";
    if (!mkdtemp(dir) || chdir(dir) != 0)
        abort();
    /* No shipped model either: `wprior sample` with no -m would otherwise
     * draw a whole 256x256 image (minutes under the sanitizers). */
    setenv("WPRIOR_MODEL", "no-such-model.safetensors", 1);
    /* stdout is not the point; stderr stays for libFuzzer's reports */
    if (!freopen("/dev/null", "w", stdout))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "wprior";
    for (size_t i = 0; i <= size && argc <= MAX_ARGS;) {
        char *a = buf + i;
        size_t n = strlen(a);
        if (a[0] == '/' || strstr(a, "..") || strchr(a, '~')) {
            free(buf); /* could reach real files */
            return 0;
        }
        argv[argc++] = a;
        i += n + 1;
    }
    argv[argc] = NULL;
    wprior_main(argc, argv);
    free(buf);
    return 0;
}
