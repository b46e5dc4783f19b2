// libFuzzer's entry for programs that keep their own main: runs the fuzzing loop over `callback`
// with libFuzzer's command-line flags. Linked in by -sanitize=fuzzer.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
