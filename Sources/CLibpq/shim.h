#include <libpq-fe.h>

// A notice (a WARNING or NOTICE the server sends, e.g. "there is no transaction in progress")
// goes to stderr by default, in the middle of the daemon's event log: this receiver drops it.
static void massiva_pq_ignore_notice(void *arg, const PGresult *res) { (void)arg; (void)res; }
static inline void massiva_pq_silence_notices(PGconn *conn) {
    PQsetNoticeReceiver(conn, massiva_pq_ignore_notice, 0);
}
