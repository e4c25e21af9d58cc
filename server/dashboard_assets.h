/*
 * The dashboard page's parts, compiled in from server/dashboard.html,
 * dashboard.css and dashboard.js by tests/gen-assets.sh, so that the page
 * needs no file at run time.  The HTML holds the markers @CSS@, @DATA@
 * and @JS@ on lines of their own, where dashboard_page() puts the styles,
 * the data it writes and the script.
 */
#ifndef GB_DASHBOARD_ASSETS_H
#define GB_DASHBOARD_ASSETS_H

extern const char dashboard_html[];
extern const char dashboard_css[];
extern const char dashboard_js[];

#endif
