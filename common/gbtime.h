/*
 * Dates and instants.  An instant is int64_t milliseconds since 1970 UTC;
 * a date is int32_t days since 1970-01-01 (a local calendar date).  Local
 * time is a fixed offset from UTC, Asia/Shanghai (+08:00, no daylight
 * saving since 1991) unless GRIDBOOK_TZ says otherwise ("+08:00", "-05:30",
 * "UTC", "Asia/Shanghai").  Tests pin "now" with GRIDBOOK_NOW, written like
 * any instant below.
 */
#ifndef GB_TIME_H
#define GB_TIME_H

#include <stdint.h>

#include "err.h"

#define GB_MS_PER_DAY INT64_C(86400000)

/* The local offset from UTC in minutes (480 for Asia/Shanghai). */
int gb_tz_offset_min(void);
/* The offset of a zone named as GRIDBOOK_TZ names one, into
 * *offset_min.  Returns 0, or -1 when tz is empty or not a zone. */
int gb_tz_parse(const char *tz, int *offset_min);

/* Now, in ms UTC: GRIDBOOK_NOW when set, else the real clock. */
int64_t gb_now_ms(void);
/* Today's local date. */
int32_t gb_today(void);

/* Parses "YYYY-MM-DD" (a real calendar date, years 1900-2999).  Returns 0,
 * or -1 with err naming the value and the expected form. */
int gb_date_parse(const char *s, int32_t *day, struct gb_err *err);
/*
 * Parses a date as people type it, the one parser for every date a person
 * gives (record fields, --from/--to, CSV cells): "2026-12-01",
 * "2026/12/01", "2026.12.1", "2026年12月1日", "12-01" or "12/01" (this
 * year), "今天"/"today", "昨天"/"yesterday", "前天", "明天"/"tomorrow"
 * (relative to gb_today()).  Surrounding blanks are ignored.  Returns 0, or
 * -1 with err naming the value and the forms taken.
 */
int gb_date_input(const char *s, int32_t *day, struct gb_err *err);
/*
 * Parses an instant as people type it: "now"/"现在"; a date as
 * gb_date_input takes it, then a blank or 'T' and "HH:MM" or "HH:MM:SS"
 * (the hour may have one digit); a time of day alone ("09:30", today); or
 * anything gb_time_parse takes (offsets, ms numbers).  Returns 0 or -1
 * with err.
 */
int gb_time_input(const char *s, int64_t *ms, struct gb_err *err);
/* Writes "YYYY-MM-DD" into out (at least 11 bytes). */
void gb_date_format(int32_t day, char *out);

/* Parses an instant: "YYYY-MM-DD HH:MM[:SS]" or "YYYY-MM-DDTHH:MM[:SS]"
 * in local time, optionally followed by "Z" or "+hh:mm"/"-hh:mm"; or a
 * bare decimal number of ms since 1970.  Returns 0 or -1 with err. */
int gb_time_parse(const char *s, int64_t *ms, struct gb_err *err);
/* 1 when ms falls in the years a date may be written in (1900-2999),
 * else 0: a time from the wire outside them is refused as absurd. */
int gb_time_sane(int64_t ms);
/* Writes local "YYYY-MM-DD HH:MM" (with ":SS" when the seconds are not
 * zero) into out (at least 20 bytes). */
void gb_time_format(int64_t ms, char *out);
/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (at least 25 bytes). */
void gb_time_format_utc(int64_t ms, char *out);

/* The local date an instant falls on. */
int32_t gb_local_day(int64_t ms);
/* The instant at which a local date begins. */
int64_t gb_day_start(int32_t day);
/* 1 = Monday ... 7 = Sunday. */
int gb_weekday(int32_t day);
/* ISO 8601 week of a date: *year is the ISO week-year. */
void gb_iso_week(int32_t day, int *year, int *week);
/* Adds n working days (Monday-Friday) to an instant, keeping the time of
 * day: Friday 10:00 + 1 is Monday 10:00. */
int64_t gb_add_working_days(int64_t ms, int n);

#endif
