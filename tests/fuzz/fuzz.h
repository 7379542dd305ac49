/*
 * fuzz.h: what every fuzz target shares. A target defines
 * LLVMFuzzerTestOneInput(); stubs.c gives it the globals ergo.c would
 * (ergo.c is not in the library) and fuzz_init() loads the built-in
 * config once. Built with libFuzzer by `make fuzz`, or with driver.c as
 * a plain program that replays a corpus (`make test` does that).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "../../ergo.h"
#include "../../log.h"
#include "../../conf.h"
#include "../../util.h"
#include "../../irc_util.h"
#include "../../irc_state.h"

void	 fuzz_init(void);
/* A NUL-terminated copy of data (malloc'd; aborts on ENOMEM). */
char	*fuzz_cstr(const uint8_t *data, size_t len);
int	 LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#endif
