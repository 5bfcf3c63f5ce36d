#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: one fixed-argument form for the options
// that take a single int (SQLITE_CONFIG_MEMSTATUS).
static inline int massiva_sqlite3_config_int(int option, int value) {
    return sqlite3_config(option, value);
}
