/*
 * The unified social credit code (统一社会信用代码) of GB 32100-2015:
 * 18 characters from "0123456789ABCDEFGHJKLMNPQRTUWXY" (no I, O, Z, S, V),
 * the first two the registering authority and kind, then a 6-digit
 * administrative division code, a 9-character organisation code and a
 * check character computed with the weights 3^i mod 31.
 */
#ifndef GB_USCC_H
#define GB_USCC_H

#include "err.h"

/* Returns 0 when s is a valid code (upper case required), or -1 with err
 * naming what is wrong: the length, the character and its position, or the
 * check character expected. */
int gb_uscc_check(const char *s, struct gb_err *err);

/* The check character for the first 17 characters of a code, or '\0' when
 * one of them is not in the alphabet. */
char gb_uscc_check_char(const char *first17);

#endif
