/*
 * irc_oper.c: an operator's standing: its oper block and class, the
 * capabilities each privileged command asks for, WHOIS's 313 and hidden
 * opers, and server notices (snomasks) to the opers who asked for them.
 * Below the command families and irc_user.c: calls irc_state and
 * irc_out only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_oper.h"
#include "conf.h"
#include "log.h"
#include "util.h"
#include "irc_out.h"
#include "irc_num.h"

static struct client	*sno_list;	/* opers with a snomask */

static const struct {
	char		 letter;
	const char	*name;
} sno_names[] = {
	{ 'a', "ANNOUNCEMENT" }, { 'c', "CONNECT" }, { 'j', "CHANNEL" },
	{ 'k', "KILL" }, { 'n', "NICK" }, { 'o', "OPER" }, { 'q', "QUIT" },
	{ 't', "STATS" }, { 'u', "ACCOUNT" }, { 'v', "VHOST" },
	{ 'x', "XLINE" },
};
#define NSNO	(sizeof(sno_names) / sizeof(sno_names[0]))

const struct oper_conf *
irc_oper_block(const struct client *c)
{
	const struct oper_conf *o;

	if (!(c->umodes & UMODE_OPER) || c->ext->oper_name == NULL)
		return NULL;
	for (o = conf->opers; o != NULL; o = o->next)
		if (strcmp(o->name, c->ext->oper_name) == 0)
			return o;
	return NULL;
}

bool
irc_oper_can(const struct client *c, const char *cap)
{
	const struct oper_conf *o = irc_oper_block(c);
	unsigned bit = conf_opcap(cap, strlen(cap));

	if (bit == 0)
		log_warnx("opers", "no capability \"%s\" (a bug)", cap);
	return o != NULL && bit != 0 && (o->caps & bit) != 0;
}

static void
sno_unlink(struct client *c)
{
	struct client_ext *x = c->ext;

	if (x->snomask == 0)
		return;
	if (x->snoprev != NULL)
		x->snoprev->ext->snonext = x->snonext;
	else
		sno_list = x->snonext;
	if (x->snonext != NULL)
		x->snonext->ext->snoprev = x->snoprev;
	x->snonext = x->snoprev = NULL;
	x->snomask = 0;
}

/* (out of memory: c keeps the mask it had, logged) */
static void
sno_set(struct client *c, uint32_t mask)
{
	struct client_ext *x;

	if (mask == 0) {
		sno_unlink(c);
		return;
	}
	if ((x = irc_cx(c)) == NULL)
		return;
	if (x->snomask == 0) {
		x->snoprev = NULL;
		x->snonext = sno_list;
		if (sno_list != NULL)
			sno_list->ext->snoprev = c;
		sno_list = c;
	}
	x->snomask = mask;
}

static uint32_t
sno_bit(char letter)
{
	const char *p = strchr(SNO_LETTERS, letter);

	return letter != '\0' && p != NULL ?
	    1U << (unsigned)(p - SNO_LETTERS) : 0;
}

void
irc_sno_string(const struct client *c, char *buf, size_t sz)
{
	size_t i, n = 0;

	for (i = 0; SNO_LETTERS[i] != '\0' && n + 1 < sz; i++)
		if (c->ext->snomask & (1U << i))
			buf[n++] = SNO_LETTERS[i];
	if (sz > 0)
		buf[n] = '\0';
}

void
irc_sno_change(struct client *c, const char *change, char *buf, size_t sz)
{
	uint32_t mask = c->ext->snomask;
	char sign = '+';

	for (; *change != '\0'; change++)
		if (*change == '+' || *change == '-')
			sign = *change;
		else if (*change == '*')
			mask = sign == '+' ? (1U << strlen(SNO_LETTERS)) - 1 : 0;
		else if (sign == '+')
			mask |= sno_bit(*change);
		else
			mask &= ~sno_bit(*change);
	sno_set(c, mask);
	irc_sno_string(c, buf, sz);
}

void
irc_sno(char letter, const char *fmt, ...)
{
	char text[IRC_LINE_MAX];
	const char *name = NULL;
	uint32_t bit = sno_bit(letter);
	struct client *c;
	va_list ap;
	size_t i;

	if (sno_list == NULL || bit == 0)
		return;
	for (i = 0; i < NSNO; i++)
		if (sno_names[i].letter == letter)
			name = sno_names[i].name;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (c = sno_list; c != NULL; c = c->ext->snonext)
		if ((c->ext->snomask & bit) && !(c->flags & CF_CLOSING))
			irc_send(c, ":%s NOTICE %s :\00314-\017%s\00314-\003 %s",
			    conf->server_name, c->nick, name, text);
}

void
irc_oper_free(struct client *c)
{
	sno_unlink(c);
}

/* "+is cjk": user modes i, w, B, s, then snomask letters. */
static void
oper_modes(struct client *c, const struct oper_conf *o)
{
	char out[32], snos[32];
	const char *p;
	size_t n = 0;

	if (o->modes == NULL)
		return;
	for (p = o->modes + 1; *p != '\0' && *p != ' '; p++) {
		unsigned bit = *p == 'i' ? UMODE_INVISIBLE : *p == 'w' ?
		    UMODE_WALLOPS : *p == 'B' ? UMODE_BOT : 0;

		if (bit != 0 && !(c->umodes & bit)) {
			c->umodes |= bit;
			if (bit == UMODE_INVISIBLE)
				irc.ninvisible++;
			if (n + 1 < sizeof(out))
				out[n++] = *p;
		}
	}
	out[n] = '\0';
	p += strspn(p, " ");
	if (strchr(o->modes, 's') != NULL && (o->caps & OPCAP_SNOMASKS)) {
		irc_sno_change(c, *p != '\0' ? p : "cjknoqux", snos,
		    sizeof(snos));
		if (snos[0] != '\0' && n + 1 < sizeof(out))
			out[n++] = 's';
		out[n] = '\0';
	}
	if (n > 0)
		irc_send(c, ":%s MODE %s :+%s", c->nick, c->nick, out);
	if (c->ext->snomask != 0) {
		irc_sno_string(c, snos, sizeof(snos));
		irc_numeric(c, RPL_SNOMASK, "+%s :Server notice masks", snos);
	}
}

bool
irc_oper_up(struct client *c, const struct oper_conf *o)
{
	struct client_ext *x = irc_cx(c);
	char *class, *name;

	class = xstrdup(o->class != NULL ? o->class : o->name);
	name = xstrdup(o->name);
	if (x == NULL || class == NULL || name == NULL) {
		free(class);
		free(name);
		log_warn("opers", "OPER for %s", c->nick);
		return false;
	}
	free(x->oper_class);
	x->oper_class = class;
	free(x->oper_name);
	x->oper_name = name;
	/* re-OPER under another block takes that block's say */
	if (o->nofakelag && (o->caps & OPCAP_NOFAKELAG))
		c->flags |= CF_FLOODOK;
	else
		c->flags &= ~CF_FLOODOK;
	if (!(c->umodes & UMODE_OPER)) {
		c->umodes |= UMODE_OPER;
		irc.nopers++;
		irc_send(c, ":%s MODE %s :+o", c->nick, c->nick);
	}
	if (!(o->caps & OPCAP_SNOMASKS))
		sno_unlink(c);
	oper_modes(c, o);
	return true;
}

void
irc_oper_down(struct client *c)
{
	if (!(c->umodes & UMODE_OPER))
		return;
	c->umodes &= ~UMODE_OPER;
	c->flags &= ~CF_FLOODOK;	/* fakelag again */
	if (irc.nopers > 0)
		irc.nopers--;
	if (c->ext != IRC_CX_NONE) {
		free(c->ext->oper_class);
		c->ext->oper_class = NULL;
		free(c->ext->oper_name);
		c->ext->oper_name = NULL;
	}
	sno_unlink(c);
}

bool
irc_oper_visible(const struct client *viewer, const struct client *t)
{
	const struct oper_conf *o;

	if (!(t->umodes & UMODE_OPER))
		return false;
	if ((o = irc_oper_block(t)) == NULL || !o->hidden)
		return true;
	return viewer == t || (viewer->umodes & UMODE_OPER);
}

const char *
irc_oper_whois_line(const struct client *t)
{
	static char line[IRC_LINE_MAX];
	const struct oper_conf *o = irc_oper_block(t);
	const char *title;

	if (o != NULL && o->whois_line != NULL)
		return o->whois_line;
	if (o == NULL || o->cls == NULL || o->cls->title == NULL)
		return "is an IRC operator";
	title = o->cls->title;
	snprintf(line, sizeof(line), "is %s %s", strchr("AEIOUaeiou",
	    title[0]) != NULL ? "an" : "a", title);
	return line;
}
