/*
 * irc_userinput.h: what irc_userinput.c exports: a client's line for the
 * userinput log, with passwords masked.
 */
#ifndef IRC_USERINPUT_H
#define IRC_USERINPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ergo.h"

const char *irc_userinput_mask(const char *line, char *buf, size_t sz);

#endif
