// Nothing to define: the header declares libFuzzer's driver for the Swift targets.
#include "fuzz_driver.h"
