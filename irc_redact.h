/*
 * irc_redact.h: what irc_redact.c exports: draft/message-redaction.
 */
#ifndef IRC_REDACT_H
#define IRC_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

cmd_fn	h_redact;

#endif
