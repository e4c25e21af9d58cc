/*
 * The option parser of opts.h.  Commands describe their options in a small
 * table and get back pointers into argv; nothing is allocated, so there is
 * nothing to free.  getopt_long is not used because record commands build
 * their option table at run time from the kind's fields, want '-' and '_'
 * to be the same in a name, and take positional ids anywhere on the line.
 */
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "opts.h"

#include "banned.h"

/* Whether name (up to len bytes) equals the option name o, with '-' and
 * '_' alike. */
static int name_match(const char *o, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < len && o[i]; i++) {
		char x = o[i] == '-' ? '_' : o[i];
		char y = name[i] == '-' ? '_' : name[i];

		if (x != y)
			return 0;
	}
	return i == len && !o[i];
}

static int is_help(const char *a)
{
	return !strcmp(a, "--help") || !strcmp(a, "-h");
}

int gb_opts_parse(const struct gb_opt *spec, int nspec, int argc, char **argv,
		  char **pos, int maxpos, int *npos, int *help,
		  struct gb_err *err)
{
	unsigned char seen[128] = {0};
	int failed = 0, only_pos = 0;

	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *v;
		size_t len;
		int o;

		if (!only_pos && help && is_help(a)) {
			*help = 1;
			return 0;
		}
		if (failed)
			continue;
		if (only_pos || a[0] != '-' || !a[1]) {
			if (*npos >= maxpos) {
				gb_error(err, GB_EUSAGE,
					 _("unexpected argument '%s'"), a);
				failed = 1;
				continue;
			}
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (a[1] != '-') {
			gb_error(err, GB_EUSAGE,
				 _("unknown option %s (options are long: "
				   "--name)"),
				 a);
			failed = 1;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = 1;
			continue;
		}
		name = a + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		for (o = 0; o < nspec; o++)
			if (name_match(spec[o].name, name, len))
				break;
		if (o == nspec) {
			gb_error(err, GB_EUSAGE, _("unknown option --%.*s"),
				 (int)len, name);
			failed = 1;
			continue;
		}
		if (o < (int)sizeof(seen) && seen[o]) {
			gb_error(err, GB_EUSAGE,
				 _("option --%s given twice (a list takes "
				   "its values separated by commas)"),
				 spec[o].name);
			failed = 1;
			continue;
		}
		if (o < (int)sizeof(seen))
			seen[o] = 1;
		if (!spec[o].has_arg) {
			if (eq) {
				gb_error(err, GB_EUSAGE,
					 _("option --%s takes no value"),
					 spec[o].name);
				failed = 1;
				continue;
			}
			if (spec[o].flag)
				*spec[o].flag = 1;
			continue;
		}
		if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			gb_error(err, GB_EUSAGE, _("option --%s needs a value"),
				 spec[o].name);
			failed = 1;
			continue;
		}
		if (spec[o].val)
			*spec[o].val = v;
		if (spec[o].flag)
			*spec[o].flag = 1;
	}
	return failed ? -1 : 0;
}

int gb_opts_usage_error(const char *prog, const char *cmd,
			const struct gb_err *err)
{
	fprintf(stderr, "%s: %s\n", prog, err->msg);
	if (cmd)
		fprintf(stderr, _("try '%s %s --help'\n"), prog, cmd);
	else
		fprintf(stderr, _("try '%s --help'\n"), prog);
	return 2;
}
