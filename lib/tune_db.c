/* SPDX-License-Identifier: BSD-3-Clause */
/* The tuning database, in SQLite (see tune.h). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef CLQ_HAVE_SQLITE3
#include <sqlite3.h>
#endif

#include "tune_private.h"

/* A table name's bytes: "tune_", a name of 63 capitals written in 126,
 * "_v" and a version. */
#define TABLE_MAX 160

/* How long a store waits for another process's transaction. */
#define BUSY_TIMEOUT_MS 10000

static int
match_from_env(enum clq_tune_match match)
{
	const char *env;

	if (match != CLQ_TUNE_MATCH_DEFAULT)
		return match;
	env = getenv("CLQ_TUNE_MATCH");
	if (!env || !*env || strcasecmp(env, "exact") == 0)
		return CLQ_TUNE_MATCH_EXACT;
	if (strcasecmp(env, "nearest") == 0)
		return CLQ_TUNE_MATCH_NEAREST;
	clq__log(NULL, CLQ_LOG_WARNING,
		 "CLQ_TUNE_MATCH='%s' is neither 'exact' nor 'nearest'; "
		 "matching exactly",
		 env);
	return CLQ_TUNE_MATCH_EXACT;
}

#ifdef CLQ_HAVE_SQLITE3

struct clq_tune_db {
	sqlite3 *db;
	char *path;
	int readonly; /* opened read-only, or SQLite found the file so */
	pthread_mutex_t lock;
	/* Which thread is in clq_tune_db_list()'s callback (holding `lock`),
	 * so that a call back into the handle is refused, not a deadlock;
	 * guarded by `cb_lock`. */
	pthread_mutex_t cb_lock;
	int listing;
	pthread_t lister;
};

/*
 * Whether the calling thread is inside a clq_tune_db_list() callback of
 * this handle: logs and returns CLQ_ERROR_IN_USE then, else CLQ_SUCCESS.
 */
static int
not_in_callback(struct clq_tune_db *d, const char *fn)
{
	int in;

	pthread_mutex_lock(&d->cb_lock);
	in = d->listing && pthread_equal(d->lister, pthread_self());
	pthread_mutex_unlock(&d->cb_lock);
	if (!in)
		return CLQ_SUCCESS;
	clq__log(NULL, CLQ_LOG_ERROR,
		 "%s: called from a clq_tune_db_list() callback on the same "
		 "handle of '%s' (expected another handle, or the call after "
		 "the walk)",
		 fn, d->path);
	return CLQ_ERROR_IN_USE;
}

static void
set_listing(struct clq_tune_db *d, int on)
{
	pthread_mutex_lock(&d->cb_lock);
	d->listing = on;
	d->lister = pthread_self();
	pthread_mutex_unlock(&d->cb_lock);
}

/* Logs SQLite's complaint about `what` and returns CLQ_ERROR_DATABASE. */
static int
db_error(struct clq_context *ctx, const char *path, sqlite3 *db,
	 const char *function, const char *what)
{
	int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
	const char *why = db ? sqlite3_errmsg(db)
			     : "a row is not in the form clq writes (corrupt, "
			       "or written by something else)";

	if (code == SQLITE_READONLY)
		why = "the database is read-only";
	else if (code == SQLITE_NOTADB)
		why = "the file is not an SQLite database (corrupt, or "
		      "another kind of file)";
	clq__log(ctx, CLQ_LOG_ERROR, "%s: %s of tuning database '%s': %s",
		 function, what, path, why);
	return CLQ_ERROR_DATABASE;
}

/*
 * Removes the directories make_parent() made: those above `path` whose
 * names are at least `made` bytes long, deepest first.
 */
static void
remove_made(const char *path, size_t made)
{
	char *copy = made ? strdup(path) : NULL;
	char *slash;

	while (copy && (slash = strrchr(copy, '/')) != NULL) {
		*slash = '\0';
		if ((size_t)(slash - copy) < made || rmdir(copy) != 0)
			break;
	}
	free(copy);
}

/*
 * Makes the directories above `path` (mkdir -p of its dirname); `*made`
 * receives the length of the first one it made (0: none), for
 * remove_made() when the open fails after all.
 */
static int
make_parent(const char *path, size_t *made)
{
	char *copy = strdup(path);
	int rc = CLQ_SUCCESS;

	*made = 0;
	if (!copy)
		return CL_OUT_OF_HOST_MEMORY;
	for (char *c = copy + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(copy, 0777) == 0) {
			if (!*made)
				*made = (size_t)(c - copy);
		} else if (errno != EEXIST) {
			clq__log(NULL, CLQ_LOG_ERROR,
				 "clq_tune_db_open: cannot make directory "
				 "'%s' for the tuning database: %s",
				 copy, strerror(errno));
			rc = CLQ_ERROR_IO;
			break;
		}
		*c = '/';
	}
	free(copy);
	if (rc < 0)
		remove_made(path, *made);
	return rc;
}

/* The path: the argument, CLQ_TUNE_DB, or the XDG cache directory. */
static char *
default_path(int *rc)
{
	const char *env = getenv("CLQ_TUNE_DB"), *base;
	struct clq__strbuf b = {0};

	if (env && *env)
		clq__strbuf_appendf(&b, "%s", env);
	else if ((base = getenv("XDG_CACHE_HOME")) && *base == '/')
		clq__strbuf_appendf(&b, "%s/clq/tune.db", base);
	else if ((base = getenv("HOME")) && *base)
		clq__strbuf_appendf(&b, "%s/.cache/clq/tune.db", base);
	else {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "clq_tune_db_open: no path given, and none of "
			 "CLQ_TUNE_DB, XDG_CACHE_HOME and HOME is set");
		*rc = CLQ_ERROR_IO;
		return NULL;
	}
	if (b.failed) {
		*rc = CL_OUT_OF_HOST_MEMORY;
		return NULL;
	}
	return b.s;
}

/* Runs one statement without results. */
static int
exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Appends `path` to a URI, percent-encoding what a URI path cannot hold. */
static void
uri_append_path(struct clq__strbuf *b, const char *path)
{
	for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || strchr("/-._~", *c))
			clq__strbuf_appendf(b, "%c", *c);
		else
			clq__strbuf_appendf(b, "%%%02X", *c);
	}
}

/*
 * Opens d->path (as a URI with `query` when that is not NULL) and reads
 * the schema, which finds a file that is not a database. Returns SQLite's
 * (extended) code; on failure d->db may stay open for its message.
 */
static int
open_and_read(struct clq_tune_db *d, int flags, const char *query)
{
	struct clq__strbuf uri = {0};
	sqlite3_stmt *stmt = NULL;
	int err;

	if (d->db) {
		sqlite3_close(d->db);
		d->db = NULL;
	}
	if (query) {
		clq__strbuf_appendf(&uri, "file:");
		uri_append_path(&uri, d->path);
		clq__strbuf_appendf(&uri, "?%s", query);
		if (uri.failed) {
			clq__strbuf_free(&uri);
			return SQLITE_NOMEM;
		}
	}
	err = sqlite3_open_v2(query ? uri.s : d->path, &d->db, flags, NULL);
	clq__strbuf_free(&uri);
	if (err != SQLITE_OK)
		return err;
	sqlite3_busy_timeout(d->db, BUSY_TIMEOUT_MS);
	err = sqlite3_prepare_v2(d->db, "SELECT count(*) FROM sqlite_master",
				 -1, &stmt, NULL);
	if (err == SQLITE_OK)
		err = sqlite3_step(stmt);
	/* Finalizing ends the read transaction the statement holds. */
	sqlite3_finalize(stmt);
	return err == SQLITE_ROW ? SQLITE_OK : err;
}

/* Whether the directory of `path` can take SQLite's journal files. */
static int
dir_writable(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int ok;

	if (!slash)
		return access(".", W_OK | X_OK) == 0;
	if (slash == path)
		return access("/", W_OK | X_OK) == 0;
	if (!(dir = strndup(path, (size_t)(slash - path))))
		return 1; /* unknown: stores will say */
	ok = access(dir, W_OK | X_OK) == 0;
	free(dir);
	return ok;
}

int
clq_tune_db_open(const char *path, unsigned flags, struct clq_tune_db **db_out)
{
	static const char fn[] = "clq_tune_db_open";
	struct clq_tune_db *d = NULL;
	int readonly = flags & CLQ_TUNE_DB_READONLY, rc = CLQ_SUCCESS, err;
	char *p;
	struct stat st;
	size_t made = 0;

	if (!db_out)
		return clq__invalid(NULL, fn, "db_out is NULL");
	*db_out = NULL;
	if (flags & ~(unsigned)CLQ_TUNE_DB_READONLY)
		return clq__invalid(NULL, fn, "unknown flag");
	p = path ? strdup(path) : default_path(&rc);
	if (!p)
		return rc < 0 ? rc : CL_OUT_OF_HOST_MEMORY;
	if (!*p) {
		free(p);
		return clq__invalid(NULL, fn, "path is empty");
	}
	if (stat(p, &st) == 0 && !S_ISREG(st.st_mode)) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: tuning database '%s' is a directory or other "
			 "non-regular file (expected an SQLite file)",
			 fn, p);
		free(p);
		return CLQ_ERROR_DATABASE;
	}
	if (readonly && stat(p, &st) != 0) {
		clq__log(NULL, CLQ_LOG_INFO, "%s: no tuning database at '%s'",
			 fn, p);
		free(p);
		return CLQ_ERROR_NOT_FOUND;
	}
	if (p[strlen(p) - 1] == '/') {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: tuning database path '%s' ends in '/' (expected "
			 "a file's path)",
			 fn, p);
		free(p);
		return CLQ_ERROR_INVALID_ARGUMENT;
	}
	if (!readonly && (rc = make_parent(p, &made)) < 0) {
		free(p);
		return rc;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		remove_made(p, made);
		free(p);
		return CL_OUT_OF_HOST_MEMORY;
	}
	d->path = p;
	if (pthread_mutex_init(&d->lock, NULL) != 0) {
		remove_made(p, made);
		free(p);
		free(d);
		return CL_OUT_OF_HOST_MEMORY;
	}
	if (pthread_mutex_init(&d->cb_lock, NULL) != 0) {
		pthread_mutex_destroy(&d->lock);
		remove_made(p, made);
		free(p);
		free(d);
		return CL_OUT_OF_HOST_MEMORY;
	}
	err = open_and_read(d,
			    readonly ? SQLITE_OPEN_READONLY
				     : SQLITE_OPEN_READWRITE |
					       SQLITE_OPEN_CREATE,
			    NULL);
	if (readonly && (err == SQLITE_CANTOPEN || err == SQLITE_READONLY)) {
		/*
		 * A WAL-mode file whose directory this process cannot write:
		 * SQLite cannot make the -shm file that WAL readers share.
		 * Nothing can be writing it then (a writer makes -shm), so
		 * it is read as an immutable file, without any lock.
		 */
		clq__log(NULL, CLQ_LOG_INFO,
			 "%s: tuning database '%s' is in WAL mode in a "
			 "directory that cannot be written; reading it as "
			 "immutable",
			 fn, p);
		err = open_and_read(d, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
				    "immutable=1");
	}
	if (err == SQLITE_NOMEM) {
		rc = CL_OUT_OF_HOST_MEMORY;
		goto out;
	}
	if (err != SQLITE_OK) {
		rc = db_error(NULL, p, d->db, fn,
			      d->db ? "reading the schema" : "opening");
		goto out;
	}
	d->readonly = readonly || sqlite3_db_readonly(d->db, "main") == 1 ||
		      !dir_writable(p);
	/*
	 * WAL: readers never block the writer nor it them, so processes
	 * tuning into one file at once only queue for the short stores. A
	 * file opened read-only (or only readable) stays as it is; the last
	 * writer to close puts it back in rollback mode (clq_tune_db_close()).
	 */
	if (!d->readonly && exec(d->db, "PRAGMA journal_mode=WAL") != SQLITE_OK)
		clq__log(NULL, CLQ_LOG_WARNING,
			 "%s: tuning database '%s' stays out of WAL mode: %s",
			 fn, p, sqlite3_errmsg(d->db));
out:
	if (rc < 0) {
		/* Before the close frees p; a file SQLite made keeps them. */
		remove_made(p, made);
		clq_tune_db_close(d);
		return rc;
	}
	*db_out = d;
	return CLQ_SUCCESS;
}

void
clq_tune_db_close(struct clq_tune_db *d)
{
	if (!d)
		return;
	/*
	 * Back to rollback mode when this is the last connection (else SQLite
	 * refuses at once: no waiting): a file that is then copied or shipped
	 * read-only needs no -wal or -shm file beside it, and its readers
	 * make none (tune.h).
	 */
	if (d->db && !d->readonly) {
		sqlite3_busy_timeout(d->db, 0);
		exec(d->db, "PRAGMA journal_mode=DELETE");
	}
	sqlite3_close(d->db);
	pthread_mutex_destroy(&d->cb_lock);
	pthread_mutex_destroy(&d->lock);
	free(d->path);
	free(d);
}

const char *
clq_tune_db_get_path(const struct clq_tune_db *d)
{
	return d ? d->path : NULL;
}

int
clq_tune_db_is_read_only(const struct clq_tune_db *d)
{
	return d ? d->readonly : 1;
}

/*
 * The table of a tunable's version. SQLite's identifiers ignore case, and
 * names differing only in case are different tunables, so each capital
 * letter is written as '-' and its small letter: "Foo" has "tune_-foo_v1",
 * "foo" "tune_foo_v1" ('-' is in no name). Names are identifiers
 * otherwise, so no quoting beyond the double quotes is needed.
 */
static void
table_name(char out[TABLE_MAX], const char *name, int version)
{
	size_t n = 0;

	n += (size_t)snprintf(out, TABLE_MAX, "tune_");
	for (const char *c = name; *c && n + 2 < TABLE_MAX; c++) {
		if (*c >= 'A' && *c <= 'Z') {
			out[n++] = '-';
			out[n++] = (char)(*c - 'A' + 'a');
		} else {
			out[n++] = *c;
		}
	}
	snprintf(out + n, TABLE_MAX - n, "_v%d", version);
}

/* Whether a table exists (1), not (0), or the query failed (< 0). */
static int
table_exists(struct clq_tune_db *d, const char *table)
{
	sqlite3_stmt *s = NULL;
	int err = sqlite3_prepare_v2(
		d->db,
		"SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1,
		&s, NULL);

	if (err == SQLITE_OK)
		err = sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	if (err == SQLITE_OK)
		err = sqlite3_step(s);
	sqlite3_finalize(s);
	return err == SQLITE_ROW ? 1 : err == SQLITE_DONE ? 0 : -1;
}

/* The key of the context's device and the tunable's source. */
struct key {
	char hash[17];
	char *problem;
	const char *device, *platform, *driver;
	char table[TABLE_MAX];
};

static int
key_init(struct key *k, struct clq_context *ctx, const struct clq_tunable *t,
	 const struct clq_params *problem, const char *fn)
{
	struct clq_device *dev = clq_context_get_device(ctx);
	char *text;
	int rc;

	k->problem = NULL;
	if ((rc = clq__tunable_expand(t, ctx, fn, &text, k->hash)) < 0)
		return rc;
	free(text);
	if ((rc = clq_params_format(problem, &k->problem)) < 0)
		return rc;
	k->device = clq_device_get_name(dev);
	k->platform = clq_device_get_platform_name(dev);
	k->driver = clq_device_get_driver_version(dev);
	table_name(k->table, t->name, t->version);
	return CLQ_SUCCESS;
}

/* Binds hash, problem, then `n_dev` of device, platform, driver. */
static int
bind_key(sqlite3_stmt *s, const struct key *k, int n_dev)
{
	const char *v[5] = {k->hash, k->problem, k->device, k->platform,
			    k->driver};
	int err = SQLITE_OK;

	for (int i = 0; i < 2 + n_dev && err == SQLITE_OK; i++)
		err = sqlite3_bind_text(s, i + 1, v[i], -1, SQLITE_STATIC);
	return err;
}

int
clq_tune_db_lookup(struct clq_tune_db *d, struct clq_context *ctx,
		   const struct clq_tunable *t,
		   const struct clq_params *problem, enum clq_tune_match match,
		   struct clq_params **params_out, double *seconds_out)
{
	static const char fn[] = "clq_tune_db_lookup";
	static const char *const where[4] = {
		" AND device=?3 AND platform=?4 AND driver=?5",
		" AND device=?3 AND platform=?4",
		" AND device=?3",
		"",
	};
	static const char *const dropped[4] = {
		"", "the driver version", "the driver version and platform",
		"the driver version, platform and device name"};
	struct key k = {0};
	int rc, exists, levels;

	if (!params_out)
		return clq__invalid(ctx, fn, "params_out is NULL");
	*params_out = NULL;
	if (!d || !ctx || !t || !problem || match < CLQ_TUNE_MATCH_DEFAULT ||
	    match > CLQ_TUNE_MATCH_NEAREST)
		return clq__invalid(ctx, fn,
				    "db, ctx, tunable or problem is NULL, or "
				    "match is unknown");
	if ((rc = not_in_callback(d, fn)) < 0)
		return rc;
	levels = match_from_env(match) == CLQ_TUNE_MATCH_NEAREST ? 4 : 1;
	if ((rc = key_init(&k, ctx, t, problem, fn)) < 0)
		goto out;
	pthread_mutex_lock(&d->lock);
	exists = table_exists(d, k.table);
	/* Not found until a level matches. */
	rc = exists < 0 ? db_error(ctx, d->path, d->db, fn, "reading")
			: CLQ_ERROR_NOT_FOUND;
	for (int level = 0;
	     exists > 0 && level < levels && rc == CLQ_ERROR_NOT_FOUND;
	     level++) {
		char sql[640];
		sqlite3_stmt *s = NULL;
		int err;

		/* Newest first; rows stored in one second by scan order. */
		snprintf(sql, sizeof(sql),
			 "SELECT params, seconds, device, platform, driver "
			 "FROM \"%s\" WHERE hash=?1 AND problem=?2%s "
			 "ORDER BY tuned_at DESC, rowid DESC",
			 k.table, where[level]);
		err = sqlite3_prepare_v2(d->db, sql, -1, &s, NULL);
		if (err == SQLITE_OK)
			err = bind_key(s, &k, 3 - level);
		while (err == SQLITE_OK &&
		       (err = sqlite3_step(s)) == SQLITE_ROW) {
			const char *params =
				(const char *)sqlite3_column_text(s, 0);
			const char *why;

			err = SQLITE_OK;
			rc = params ? clq_params_parse(params, params_out)
				    : CL_OUT_OF_HOST_MEMORY;
			if (rc == CLQ_ERROR_INVALID_ARGUMENT)
				rc = db_error(ctx, d->path, NULL, fn,
					      "bad parameters in a row");
			if (rc < 0)
				break;
			/* A row from elsewhere (or an older grid) that this
			 * tunable cannot use here is passed over. */
			why = clq__tunable_rejects(t,
						   clq_context_get_device(ctx),
						   problem, *params_out);
			if (why) {
				clq__log(
					ctx, CLQ_LOG_INFO,
					"%s: passing over %s v%d's stored %s "
					"(tuned on '%s'): %s",
					fn, t->name, t->version, params,
					(const char *)sqlite3_column_text(s, 2),
					why);
				clq_params_free(*params_out);
				*params_out = NULL;
				rc = CLQ_ERROR_NOT_FOUND;
				continue;
			}
			if (seconds_out)
				*seconds_out = sqlite3_column_double(s, 1);
			if (level > 0)
				clq__log(
					ctx, CLQ_LOG_INFO,
					"%s: no exact match for %s v%d (%s); "
					"nearest without %s: tuned on '%s', "
					"'%s', driver '%s'",
					fn, t->name, t->version, k.problem,
					dropped[level],
					(const char *)sqlite3_column_text(s, 2),
					(const char *)sqlite3_column_text(s, 3),
					(const char *)sqlite3_column_text(s,
									  4));
			break;
		}
		if (err != SQLITE_OK && err != SQLITE_DONE)
			rc = err == SQLITE_NOMEM ? CL_OUT_OF_HOST_MEMORY
						 : db_error(ctx, d->path, d->db,
							    fn, "reading");
		sqlite3_finalize(s);
	}
	pthread_mutex_unlock(&d->lock);
out:
	free(k.problem);
	return rc;
}

/* Ends a transaction: commit when rc is success, else roll back. */
static int
finish_transaction(struct clq_tune_db *d, struct clq_context *ctx,
		   const char *fn, int rc)
{
	if (rc == CLQ_SUCCESS) {
		if (exec(d->db, "COMMIT") == SQLITE_OK)
			return CLQ_SUCCESS;
		rc = db_error(ctx, d->path, d->db, fn, "committing");
	}
	/*
	 * After a failed COMMIT too: it leaves the transaction open. A
	 * transaction left open would refuse every later BEGIN on this
	 * handle, so a failed ROLLBACK (out of memory) is tried once more.
	 */
	if (!sqlite3_get_autocommit(d->db) &&
	    exec(d->db, "ROLLBACK") != SQLITE_OK)
		exec(d->db, "ROLLBACK");
	return rc;
}

/* Creates the catalog and the table of one tunable version. */
static int
ensure_table(struct clq_tune_db *d, const char *table, const char *name,
	     int version)
{
	char sql[512];
	sqlite3_stmt *s = NULL;
	int err;

	err = exec(d->db, "CREATE TABLE IF NOT EXISTS clq_tunables ("
			  "tbl TEXT PRIMARY KEY, name TEXT NOT NULL, "
			  "version INTEGER NOT NULL)");
	if (err != SQLITE_OK)
		return err;
	snprintf(sql, sizeof(sql),
		 "CREATE TABLE IF NOT EXISTS \"%s\" (hash TEXT NOT NULL, "
		 "problem TEXT NOT NULL, device TEXT NOT NULL, platform TEXT "
		 "NOT NULL, driver TEXT NOT NULL, params TEXT NOT NULL, "
		 "seconds REAL NOT NULL, tuned_at TEXT NOT NULL, PRIMARY KEY "
		 "(hash, problem, device, platform, driver))",
		 table);
	if ((err = exec(d->db, sql)) != SQLITE_OK)
		return err;
	err = sqlite3_prepare_v2(d->db,
				 "INSERT OR IGNORE INTO clq_tunables "
				 "(tbl, name, version) VALUES (?, ?, ?)",
				 -1, &s, NULL);
	if (err == SQLITE_OK)
		err = sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	if (err == SQLITE_OK)
		err = sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
	if (err == SQLITE_OK)
		err = sqlite3_bind_int(s, 3, version);
	if (err == SQLITE_OK)
		err = sqlite3_step(s);
	sqlite3_finalize(s);
	return err == SQLITE_DONE ? SQLITE_OK : err;
}

/* Inserts one row (texts in key order, then params) inside a transaction. */
static int
insert_row(struct clq_tune_db *d, const char *table, const char *const text[6],
	   double seconds, const char *tuned_at)
{
	char sql[640];
	sqlite3_stmt *s = NULL;
	int err;

	snprintf(sql, sizeof(sql),
		 "INSERT OR REPLACE INTO \"%s\" VALUES (?1, ?2, ?3, ?4, ?5, "
		 "?6, ?7, coalesce(?8, strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', "
		 "'now')))",
		 table);
	err = sqlite3_prepare_v2(d->db, sql, -1, &s, NULL);
	for (int i = 0; i < 6 && err == SQLITE_OK; i++)
		err = sqlite3_bind_text(s, i + 1, text[i], -1, SQLITE_STATIC);
	if (err == SQLITE_OK)
		err = sqlite3_bind_double(s, 7, seconds);
	if (err == SQLITE_OK)
		err = tuned_at ? sqlite3_bind_text(s, 8, tuned_at, -1,
						   SQLITE_STATIC)
			       : sqlite3_bind_null(s, 8);
	if (err == SQLITE_OK)
		err = sqlite3_step(s);
	sqlite3_finalize(s);
	return err == SQLITE_DONE ? SQLITE_OK : err;
}

int
clq_tune_db_store(struct clq_tune_db *d, struct clq_context *ctx,
		  const struct clq_tunable *t, const struct clq_params *problem,
		  const struct clq_params *params, double seconds)
{
	static const char fn[] = "clq_tune_db_store";
	struct key k = {0};
	char *ptext = NULL;
	int rc, err;

	if (!d || !ctx || !t || !problem || !params || !(seconds >= 0) ||
	    !isfinite(seconds))
		return clq__invalid(ctx, fn,
				    "db, ctx, tunable, problem or params is "
				    "NULL, or seconds is negative, infinite "
				    "or NaN");
	if ((rc = not_in_callback(d, fn)) < 0)
		return rc;
	if ((rc = key_init(&k, ctx, t, problem, fn)) < 0 ||
	    (rc = clq_params_format(params, &ptext)) < 0)
		goto out;
	pthread_mutex_lock(&d->lock);
	/* IMMEDIATE: take the write lock now, waiting up to the timeout. */
	if (exec(d->db, "BEGIN IMMEDIATE") != SQLITE_OK) {
		rc = db_error(ctx, d->path, d->db, fn, "locking");
	} else {
		const char *text[6] = {k.hash,	   k.problem, k.device,
				       k.platform, k.driver,  ptext};

		err = ensure_table(d, k.table, t->name, t->version);
		if (err == SQLITE_OK)
			err = insert_row(d, k.table, text, seconds, NULL);
		rc = err == SQLITE_OK
			     ? CLQ_SUCCESS
			     : db_error(ctx, d->path, d->db, fn, "writing");
		rc = finish_transaction(d, ctx, fn, rc);
	}
	pthread_mutex_unlock(&d->lock);
out:
	free(ptext);
	free(k.problem);
	return rc;
}

int
clq_tune_db_get(struct clq_tune_db *d, struct clq_context *ctx,
		const struct clq_tunable *t, const struct clq_params *problem,
		enum clq_tune_match match,
		const struct clq_tune_options *options,
		struct clq_params **params_out, int *tuned_out)
{
	struct clq_params *best = NULL;
	char *ptext = NULL;
	double seconds;
	int rc;

	if (tuned_out)
		*tuned_out = 0;
	rc = clq_tune_db_lookup(d, ctx, t, problem, match, params_out, NULL);
	if (rc != CLQ_ERROR_NOT_FOUND)
		return rc;
	/* Said before tuning, which would be lost. */
	if (d->readonly) {
		clq__log(ctx, CLQ_LOG_ERROR,
			 "clq_tune_db_get: no entry for %s v%d in '%s', which "
			 "is read-only: not tuning (expected a writable "
			 "database, or clq_tune() without one)",
			 t->name, t->version, d->path);
		return CLQ_ERROR_DATABASE;
	}
	clq_params_format(problem, &ptext);
	clq__log(ctx, CLQ_LOG_INFO,
		 "tuning %s v%d at run time for %s on '%s': no entry in '%s'",
		 t->name, t->version, ptext ? ptext : "?",
		 clq_device_get_name(clq_context_get_device(ctx)), d->path);
	free(ptext);
	if ((rc = clq_tune(ctx, t, problem, options, &best, &seconds)) < 0)
		return rc;
	if ((rc = clq_tune_db_store(d, ctx, t, problem, best, seconds)) < 0) {
		clq_params_free(best);
		return rc;
	}
	if (tuned_out)
		*tuned_out = 1;
	*params_out = best;
	return CLQ_SUCCESS;
}

/* The catalog's rows: the tables of every tunable version, sorted. */
struct catalog {
	char (*tables)[TABLE_MAX];
	char (*names)[CLQ__TUNE_NAME_MAX + 1];
	int *versions;
	size_t n;
};

static void
catalog_free(struct catalog *c)
{
	free(c->tables);
	free(c->names);
	free(c->versions);
}

/* Reads the catalog of schema `schema` (`main`); rows whose name or
 * version is not what clq writes are refused as corruption. */
static int
catalog_read(sqlite3 *db, const char *name, struct catalog *c)
{
	sqlite3_stmt *s = NULL;
	int err;

	memset(c, 0, sizeof(*c));
	err = sqlite3_prepare_v2(
		db,
		"SELECT name, version FROM clq_tunables WHERE ?1 IS NULL OR "
		"name = ?1 ORDER BY name, version",
		-1, &s, NULL);
	if (err != SQLITE_OK) {
		/* No catalog: nothing stored yet. */
		int none = err == SQLITE_ERROR &&
			   strstr(sqlite3_errmsg(db), "no such table");

		sqlite3_finalize(s);
		return none ? SQLITE_DONE : err;
	}
	err = name ? sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC)
		   : SQLITE_OK;
	while (err == SQLITE_OK && (err = sqlite3_step(s)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(s, 0);
		int v = sqlite3_column_int(s, 1);
		void *p;

		if (!n || !clq__tune_is_name(n) || v < 0) {
			err = SQLITE_CORRUPT;
			break;
		}
		if (!(p = realloc(c->tables, (c->n + 1) * sizeof(*c->tables))))
			goto oom;
		c->tables = p;
		if (!(p = realloc(c->names, (c->n + 1) * sizeof(*c->names))))
			goto oom;
		c->names = p;
		if (!(p = realloc(c->versions,
				  (c->n + 1) * sizeof(*c->versions))))
			goto oom;
		c->versions = p;
		table_name(c->tables[c->n], n, v);
		snprintf(c->names[c->n], sizeof(c->names[0]), "%s", n);
		c->versions[c->n++] = v;
		err = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return err;
oom:
	sqlite3_finalize(s);
	return SQLITE_NOMEM;
}

/* Walks the rows of one table, calling `fn` with each as an entry. */
static int
walk_table(sqlite3 *db, const char *table, const char *name, int version,
	   int (*fn)(const struct clq_tune_entry *, void *), void *data,
	   int *user_rc)
{
	char sql[640];
	sqlite3_stmt *s = NULL;
	int err;

	snprintf(sql, sizeof(sql),
		 "SELECT hash, problem, device, platform, driver, params, "
		 "seconds, tuned_at FROM \"%s\" ORDER BY problem, device, "
		 "platform, driver, hash",
		 table);
	err = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	while (err == SQLITE_OK && (err = sqlite3_step(s)) == SQLITE_ROW) {
		const char *col[8];
		struct clq_tune_entry e;

		err = SQLITE_OK;
		for (int i = 0; i < 8; i++) {
			col[i] = (const char *)sqlite3_column_text(s, i);
			if (!col[i])
				err = sqlite3_errcode(db) == SQLITE_NOMEM
					      ? SQLITE_NOMEM
					      : SQLITE_CORRUPT;
		}
		if (err != SQLITE_OK)
			break;
		e = (struct clq_tune_entry){
			.name = name,
			.version = version,
			.hash = col[0],
			.problem = col[1],
			.device = col[2],
			.platform = col[3],
			.driver = col[4],
			.params = col[5],
			.seconds = sqlite3_column_double(s, 6),
			.tuned_at = col[7],
		};
		if ((*user_rc = fn(&e, data)) != 0)
			break;
	}
	sqlite3_finalize(s);
	return err == SQLITE_DONE ? SQLITE_OK : err;
}

int
clq_tune_db_list(struct clq_tune_db *d, const char *name,
		 int (*fn)(const struct clq_tune_entry *entry, void *user_data),
		 void *user_data)
{
	static const char fn_name[] = "clq_tune_db_list";
	struct catalog c;
	int err, rc = CLQ_SUCCESS, user_rc = 0;

	if (!d || !fn)
		return clq__invalid(NULL, fn_name, "db or fn is NULL");
	if (name && !clq__tune_is_name(name))
		return clq__invalid(NULL, fn_name,
				    "name is not a tunable name (expected an "
				    "identifier of at most 63 bytes, or NULL)");
	if ((rc = not_in_callback(d, fn_name)) < 0)
		return rc;
	pthread_mutex_lock(&d->lock);
	/* One read transaction: a consistent snapshot of every table. */
	err = exec(d->db, "BEGIN");
	if (err == SQLITE_OK)
		err = catalog_read(d->db, name, &c);
	else
		memset(&c, 0, sizeof(c));
	if (err == SQLITE_DONE)
		err = SQLITE_OK;
	set_listing(d, 1);
	for (size_t i = 0; err == SQLITE_OK && !user_rc && i < c.n; i++)
		err = walk_table(d->db, c.tables[i], c.names[i], c.versions[i],
				 fn, user_data, &user_rc);
	set_listing(d, 0);
	if (err == SQLITE_NOMEM)
		rc = CL_OUT_OF_HOST_MEMORY;
	else if (err != SQLITE_OK)
		rc = db_error(NULL, d->path, d->db, fn_name, "reading");
	if (!sqlite3_get_autocommit(d->db))
		exec(d->db, "COMMIT");
	pthread_mutex_unlock(&d->lock);
	catalog_free(&c);
	return user_rc ? user_rc : rc;
}

/* merge: each source row is inserted into the destination's table. */
struct merge_state {
	struct clq_tune_db *dst;
	int err;
	size_t copied;
	char made[TABLE_MAX]; /* the last table made sure of */
};

static int
merge_row(const struct clq_tune_entry *e, void *data)
{
	struct merge_state *m = data;
	char table[TABLE_MAX];
	const char *text[6] = {e->hash,	    e->problem, e->device,
			       e->platform, e->driver,	e->params};
	struct clq_params *check = NULL;

	/* Rows are checked as lookups would read them. */
	int rc = clq_params_parse(e->params, &check);

	if (rc == CL_OUT_OF_HOST_MEMORY) {
		m->err = SQLITE_NOMEM;
		return 1;
	}
	if (!clq__tune_is_name(e->name) || rc < 0) {
		m->err = SQLITE_CORRUPT;
		return 1;
	}
	clq_params_free(check);
	table_name(table, e->name, e->version);
	if (strcmp(table, m->made) != 0) {
		m->err = ensure_table(m->dst, table, e->name, e->version);
		if (m->err != SQLITE_OK)
			return 1;
		snprintf(m->made, sizeof(m->made), "%s", table);
	}
	m->err = insert_row(m->dst, table, text, e->seconds, e->tuned_at);
	if (m->err != SQLITE_OK)
		return 1;
	m->copied++;
	return 0;
}

/*
 * CLQ_ERROR_DATABASE (logged) when `src` holds tables but not clq's
 * catalog; an empty file is an empty tuning database.
 */
static int
foreign_tables(struct clq_tune_db *src, const char *fn)
{
	sqlite3_stmt *s = NULL;
	int err, n = 0, catalog;

	err = sqlite3_prepare_v2(
		src->db,
		"SELECT count(*) FROM sqlite_master WHERE type='table'", -1, &s,
		NULL);
	if (err == SQLITE_OK && (err = sqlite3_step(s)) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	catalog = table_exists(src, "clq_tunables");
	if (err == SQLITE_NOMEM)
		return CL_OUT_OF_HOST_MEMORY;
	if (err != SQLITE_ROW || catalog < 0)
		return db_error(NULL, src->path, src->db, fn, "reading");
	if (n > 0 && !catalog) {
		clq__log(NULL, CLQ_LOG_ERROR,
			 "%s: '%s' is an SQLite database but not a clq tuning "
			 "database (expected its table clq_tunables)",
			 fn, src->path);
		return CLQ_ERROR_DATABASE;
	}
	return CLQ_SUCCESS;
}

int
clq_tune_db_merge(struct clq_tune_db *d, const char *src_path,
		  size_t *copied_out)
{
	static const char fn[] = "clq_tune_db_merge";
	struct clq_tune_db *src = NULL;
	struct merge_state m = {.dst = d};
	int rc;

	if (copied_out)
		*copied_out = 0;
	if (!d || !src_path)
		return clq__invalid(NULL, fn, "db or src_path is NULL");
	if ((rc = not_in_callback(d, fn)) < 0)
		return rc;
	if ((rc = clq_tune_db_open(src_path, CLQ_TUNE_DB_READONLY, &src)) < 0) {
		if (rc == CLQ_ERROR_NOT_FOUND)
			clq__log(NULL, CLQ_LOG_ERROR,
				 "%s: no tuning database at '%s'", fn,
				 src_path);
		return rc;
	}
	/* Tables, but none of clq's: another program's database. */
	if ((rc = foreign_tables(src, fn)) < 0) {
		clq_tune_db_close(src);
		return rc;
	}
	pthread_mutex_lock(&d->lock);
	if (exec(d->db, "BEGIN IMMEDIATE") != SQLITE_OK) {
		rc = db_error(NULL, d->path, d->db, fn, "locking");
		pthread_mutex_unlock(&d->lock);
		clq_tune_db_close(src);
		return rc;
	}
	rc = clq_tune_db_list(src, NULL, merge_row, &m);
	if (rc > 0) /* merge_row stopped the walk */
		rc = m.err == SQLITE_NOMEM ? CL_OUT_OF_HOST_MEMORY
		     : m.err == SQLITE_CORRUPT
			     ? db_error(NULL, src_path, NULL, fn,
					"bad row in the source")
			     : db_error(NULL, d->path, d->db, fn, "writing");
	rc = finish_transaction(d, NULL, fn, rc);
	pthread_mutex_unlock(&d->lock);
	clq_tune_db_close(src);
	if (rc == CLQ_SUCCESS && copied_out)
		*copied_out = m.copied;
	return rc;
}

int
clq_tune_db_forget(struct clq_tune_db *d, const char *name, size_t *removed_out)
{
	static const char fn[] = "clq_tune_db_forget";
	struct catalog c = {0};
	size_t removed = 0;
	int err, rc;

	if (removed_out)
		*removed_out = 0;
	if (!d || !name)
		return clq__invalid(NULL, fn, "db or name is NULL");
	if (!clq__tune_is_name(name))
		return clq__invalid(NULL, fn,
				    "name is not a tunable name (expected an "
				    "identifier of at most 63 bytes)");
	if ((rc = not_in_callback(d, fn)) < 0)
		return rc;
	pthread_mutex_lock(&d->lock);
	if (exec(d->db, "BEGIN IMMEDIATE") != SQLITE_OK) {
		rc = db_error(NULL, d->path, d->db, fn, "locking");
		pthread_mutex_unlock(&d->lock);
		return rc;
	}
	err = catalog_read(d->db, name, &c);
	if (err == SQLITE_DONE)
		err = SQLITE_OK;
	for (size_t i = 0; err == SQLITE_OK && i < c.n; i++) {
		char sql[640];
		sqlite3_stmt *s = NULL;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM \"%s\"",
			 c.tables[i]);
		err = sqlite3_prepare_v2(d->db, sql, -1, &s, NULL);
		if (err == SQLITE_OK && (err = sqlite3_step(s)) == SQLITE_ROW) {
			removed += (size_t)sqlite3_column_int64(s, 0);
			err = SQLITE_OK;
		}
		sqlite3_finalize(s);
		if (err == SQLITE_OK) {
			snprintf(sql, sizeof(sql), "DROP TABLE \"%s\"",
				 c.tables[i]);
			err = exec(d->db, sql);
		}
	}
	if (err == SQLITE_OK && c.n) {
		sqlite3_stmt *s = NULL;

		err = sqlite3_prepare_v2(
			d->db, "DELETE FROM clq_tunables WHERE name = ?", -1,
			&s, NULL);
		if (err == SQLITE_OK)
			err = sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		if (err == SQLITE_OK)
			err = sqlite3_step(s);
		sqlite3_finalize(s);
		if (err == SQLITE_DONE)
			err = SQLITE_OK;
	}
	rc = err == SQLITE_OK ? CLQ_SUCCESS
	     : err == SQLITE_NOMEM
		     ? CL_OUT_OF_HOST_MEMORY
		     : db_error(NULL, d->path, d->db, fn, "deleting");
	rc = finish_transaction(d, NULL, fn, rc);
	pthread_mutex_unlock(&d->lock);
	catalog_free(&c);
	if (rc == CLQ_SUCCESS && removed_out)
		*removed_out = removed;
	return rc;
}

#else /* !CLQ_HAVE_SQLITE3 */

static int
unsupported_at(enum clq_log_level level, const char *function)
{
	clq__log(NULL, level,
		 "%s: clq was built without SQLite (the meson feature "
		 "'sqlite', the system libsqlite3), so it has no tuning "
		 "database",
		 function);
	return CLQ_ERROR_UNSUPPORTED;
}

static int
unsupported(const char *function)
{
	return unsupported_at(CLQ_LOG_ERROR, function);
}

int
clq_tune_db_open(const char *path, unsigned flags, struct clq_tune_db **db_out)
{
	if (db_out)
		*db_out = NULL;
	/* A read-only open is a program looking for a database that may
	 * not be there: no error for it (see clq_tune_db_open()). */
	return unsupported_at(flags & CLQ_TUNE_DB_READONLY ? CLQ_LOG_INFO
							   : CLQ_LOG_ERROR,
			      "clq_tune_db_open");
}

void
clq_tune_db_close(struct clq_tune_db *db)
{
}

const char *
clq_tune_db_get_path(const struct clq_tune_db *db)
{
	return NULL;
}

int
clq_tune_db_is_read_only(const struct clq_tune_db *db)
{
	return 1;
}

int
clq_tune_db_lookup(struct clq_tune_db *db, struct clq_context *ctx,
		   const struct clq_tunable *tunable,
		   const struct clq_params *problem, enum clq_tune_match match,
		   struct clq_params **params_out, double *seconds_out)
{
	if (params_out)
		*params_out = NULL;
	(void)match_from_env;
	return unsupported("clq_tune_db_lookup");
}

int
clq_tune_db_store(struct clq_tune_db *db, struct clq_context *ctx,
		  const struct clq_tunable *tunable,
		  const struct clq_params *problem,
		  const struct clq_params *params, double seconds)
{
	return unsupported("clq_tune_db_store");
}

int
clq_tune_db_get(struct clq_tune_db *db, struct clq_context *ctx,
		const struct clq_tunable *tunable,
		const struct clq_params *problem, enum clq_tune_match match,
		const struct clq_tune_options *options,
		struct clq_params **params_out, int *tuned_out)
{
	if (params_out)
		*params_out = NULL;
	if (tuned_out)
		*tuned_out = 0;
	return unsupported("clq_tune_db_get");
}

int
clq_tune_db_list(struct clq_tune_db *db, const char *name,
		 int (*fn)(const struct clq_tune_entry *entry, void *user_data),
		 void *user_data)
{
	return unsupported("clq_tune_db_list");
}

int
clq_tune_db_merge(struct clq_tune_db *db, const char *src_path,
		  size_t *copied_out)
{
	if (copied_out)
		*copied_out = 0;
	return unsupported("clq_tune_db_merge");
}

int
clq_tune_db_forget(struct clq_tune_db *db, const char *name,
		   size_t *removed_out)
{
	if (removed_out)
		*removed_out = 0;
	return unsupported("clq_tune_db_forget");
}

#endif
