/*
 * ergo_import.h: what ergo_import.c exports: `ergo importdb`, accounts
 * and channels from Ergo's JSON import format (anope2json, atheme2json)
 * or from Ergo's own buntdb database, into the open store.
 */
#ifndef ERGO_IMPORT_H
#define ERGO_IMPORT_H

#define IMPORT_FILE_MAX	(256u << 20)	/* bytes read from one file */

/*
 * Imports file into the database at dbpath (conf loaded), which is
 * opened (store_open) only once the file has parsed: every record that
 * cannot be kept whole is reported on stderr, never dropped in silence.
 * 0 if the file was read (even with warnings), -1 if it could not be
 * read or parsed or the database not opened (nothing imported then).
 */
int	 ergo_import_db(const char *file, const char *dbpath);

#endif
