/*
 * conf_yaml.h: what conf_yaml.c exports: `ergo importconf`, an Ergo
 * ircd.yaml (the YAML subset its default.yaml uses) turned into our
 * ergo.conf grammar.
 */
#ifndef CONF_YAML_H
#define CONF_YAML_H

#include <stdio.h>

#define YAML_FILE_MAX	(4u << 20)	/* bytes of one ircd.yaml */
#define YAML_DEPTH_MAX	32

/*
 * Writes the config converted from the YAML file at path to out; every
 * key not carried over is reported on stderr with its line. The result
 * is checked with conf_load before it is written. 0 if written, -1 if
 * the YAML could not be read or parsed, or the result did not load.
 */
int	 conf_yaml_convert(const char *path, FILE *out);
/* Parses and converts len bytes of YAML, writing nothing (for the fuzz
 * target): 0, or -1 with why in err. */
int	 conf_yaml_check(const char *text, size_t len, char *err,
	    size_t errsz);

#endif
