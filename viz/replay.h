/*
 * replay.h -- a recording as a source of views: the whole run's series and markers are
 * read once when it opens; the room at a moment is read on demand through the library's
 * recording reader (sim/include/skadi/recording.h), one search and one read per table.
 */
#ifndef SKADI_VIZ_REPLAY_H
#define SKADI_VIZ_REPLAY_H

#include <stddef.h>

#include "view.h"

typedef struct sk_viz_replay sk_viz_replay;

/* Opens the recording at path.  Returns 0; 2 for bad input (no such file, not a Skadi
 * recording, a recording with no samples or no rack layout) or 1 when it cannot be read,
 * with a message naming the path in err.  Close with sk_viz_replay_close. */
int sk_viz_replay_open(sk_viz_replay **out, const char *path, char *err, size_t errlen);
void sk_viz_replay_close(sk_viz_replay *r); /* NULL: no-op */

double sk_viz_replay_first_s(const sk_viz_replay *r); /* ts of the first sample */
double sk_viz_replay_last_s(const sk_viz_replay *r);  /* ts of the last sample */

/* Fills v (title, room, KPIs, series, markers, actions) with the latest sample at or
 * before t_s (the first sample when t_s is before it); v->t_s is that sample's ts.  The
 * view's metric, help, speed and paused are left as they are.  The series stay valid
 * until the replay is closed.  Returns 0, or 1 with a message in err when the file cannot
 * be read. */
int sk_viz_replay_fill(sk_viz_replay *r, double t_s, sk_viz_view *v, char *err, size_t errlen);

#endif
