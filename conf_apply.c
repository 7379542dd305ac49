/*
 * conf_apply.c: what a load does besides the file's statements: the key
 * tables' built-in defaults, ERGO__SECTION__KEY environment overrides
 * (applied as if written in that block) and the checks across keys once
 * everything is read. For conf.c (conf_int.h).
 */

#include <string.h>
#include <strings.h>

#include "ergo.h"
#include "conf.h"
#include "conf_int.h"

extern char **environ;

#define ENV_PREFIX	"ERGO__"

static const struct where default_where = { 0, 0, "built-in default" };

/* ---- defaults, overrides, validation ---- */

void
conf_defaults_apply(struct parser *p, const struct block *b, void *base)
{
	const struct key *k;

	for (k = b->keys; k->name != NULL; k++)
		if (k->type == K_BLOCK || k->type == K_SWITCH)
			conf_defaults_apply(p, k->aux, base);
		else if (k->def != NULL && k->type != K_LISTEN &&
		    k->type != K_OPER && k->type != K_OPERCLASS &&
		    k->type != K_LOG && k->type != K_LINK &&
		    k->type != K_WEBIRC)
			(void)conf_set_value(p, k, base, k->def, strlen(k->def),
			    &default_where);
}

/* "MAX_SENDQ" names "max-sendq": upper case, '_' for '-'. */
static const struct key *
env_key_find(const struct block *b, const char *s, size_t n)
{
	const struct key *k;
	size_t i;

	for (k = b->keys; k->name != NULL; k++) {
		if (strlen(k->name) != n)
			continue;
		for (i = 0; i < n; i++)
			if (conf_lower(s[i]) != (k->name[i] == '-' ? '_' :
			    k->name[i]))
				break;
		if (i == n)
			return k;
	}
	return NULL;
}

/* "max-sendq" as it is spelled in a variable: "MAX_SENDQ". */
static void
env_name(char *buf, size_t sz, const char *key)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < sz; i++)
		buf[i] = key[i] == '-' ? '_' : key[i] >= 'a' &&
		    key[i] <= 'z' ? (char)(key[i] - 'a' + 'A') : key[i];
	buf[i] = '\0';
}

/* ERGO__SECTION__KEY=value, applied as if written in that block. */
static void
env_apply_one(struct parser *p, const char *var)
{
	const char *eq = strchr(var, '='), *comp, *end, *val;
	const struct block *b = &top_block;
	const struct key *k = NULL;
	char name[128], shown[64], in[64];
	struct where w = { 0, 0, name };
	void *base = p->c;
	size_t n;

	if (eq == NULL)
		return;
	n = (size_t)(eq - var);
	conf_show(name, sizeof(name), var, n);
	val = eq + 1;
	for (comp = var + strlen(ENV_PREFIX);; comp = end + 2) {
		if ((end = strstr(comp, "__")) == NULL || end > eq)
			end = eq;
		if (end == comp) {
			conf_err(p, &w, "expected ERGO__SECTION__KEY=value");
			return;
		}
		if ((k = env_key_find(b, comp, (size_t)(end - comp))) ==
		    NULL) {
			conf_show(shown, sizeof(shown), comp,
			    (size_t)(end - comp));
			conf_err(p, &w, "unknown key %s %s", shown,
			    conf_block_where(b, in, sizeof(in)));
			return;
		}
		if (k->type == K_OPER || k->type == K_OPERCLASS ||
		    k->type == K_LINK || k->type == K_WEBIRC) {
			conf_err(p, &w, "%s blocks cannot be set from the "
			    "environment", k->name);
			return;
		}
		if (end == eq)
			break;
		if (k->type != K_BLOCK && k->type != K_SWITCH &&
		    k->type != K_LOG) {
			conf_err(p, &w, "%s is not a block", k->name);
			return;
		}
		if (k->type == K_LOG) {	/* the first logging block */
			if (p->c->logs == NULL && conf_log_new(p) == NULL)
				return;
			base = p->c->logs;
			memcpy(p->env_log_name, name, sizeof(name));
			p->env_log.env = p->env_log_name;
		}
		b = k->aux;
	}
	switch (k->type) {
	case K_SWITCH:	/* ERGO__ACCOUNTS__REGISTRATION=no */
		(void)conf_set_value(p, ((const struct block *)k->aux)->keys,
		    base, val, strlen(val), &w);
		break;
	case K_BLOCK:
	case K_LOG:
		env_name(shown, sizeof(shown),
		    ((const struct block *)k->aux)->keys[0].name);
		conf_err(p, &w, "%s is a block: name one of its keys, like "
		    "%s__%s", k->name, name, shown);
		break;
	case K_LISTEN:
		conf_listen_set_list(p, val, &w);
		break;
	default:
		(void)conf_set_value(p, k, base, val, strlen(val), &w);
		break;
	}
}

void
conf_env_apply(struct parser *p)
{
	char **e;

	for (e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, ENV_PREFIX, strlen(ENV_PREFIX)) == 0)
			env_apply_one(p, *e);
}

void
conf_validate(struct parser *p)
{
	const struct key *k;

	if (!p->listen_set) {
		k = conf_key_find(&server_block, "listen", 6);
		conf_listen_set_list(p, k->def, &default_where);
	}
	if (p->c->links != NULL && p->c->sid == NULL) {
		struct where lw = { conf_pos_line(p, p->c->links), 1, NULL };

		conf_err(p, &lw, "link blocks need server.sid, this "
		    "server's TS6 id, like: sid 0AB");
	}
	if (p->c->services.enabled && p->c->services.server != NULL &&
	    p->c->server_name != NULL &&
	    strcasecmp(p->c->services.server, p->c->server_name) != 0)
		conf_err(p, NULL, "services.server is %s but services.enabled "
		    "is yes here (%s): a network has one services server",
		    p->c->services.server, p->c->server_name);
	if (p->c->accounts.ev_enabled && (p->c->accounts.ev_sender == NULL ||
	    strchr(p->c->accounts.ev_sender, '@') == NULL ||
	    strpbrk(p->c->accounts.ev_sender, "<>\"") != NULL))
		conf_err(p, NULL, "accounts.registration."
		    "email-verification.sender must be an address like "
		    "admin@example.org");
	if (p->c->logs == NULL)
		(void)conf_log_new(p);	/* none configured: stderr, info */
	else if (p->env_log.env != NULL)	/* an override */
		conf_log_check(p, p->c->logs, &p->env_log);
	conf_operclass_resolve(p);
}
