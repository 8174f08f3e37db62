/* Session commands: the first byte picks a command log (JSON Lines, as `skadi run
 * --commands` and the API replay it; the rest of the input is the file) or a posted
 * command (sk_session_post: kind, key and value separated by NUL bytes).  One session
 * (a 2-rack room, no recording) serves every input; what an input queued or loaded is
 * dropped after it, through the session's private state. */
#include "fuzz_util.h"

#include "session_int.h"
#include "skadi/session.h"

static sk_session *session(void) {
  static sk_session *s;
  if (!s) {
    static const char *const sets[] = {"room.rows=1", "room.racks_per_row=2"};
    sk_session_config cfg;
    sk_session_config_init(&cfg);
    cfg.sets = sets;
    cfg.n_sets = 2;
    cfg.duration_s = 60;
    cfg.mode = "closed_loop";
    cfg.threads = 1;
    char err[512];
    if (sk_session_create(&s, &cfg, err, sizeof err) != SK_OK) {
      fprintf(stderr, "fuzz_session: %s\n", err);
      abort();
    }
  }
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  sk_session *s = session();
  char err[512];
  if (data[0] & 1) {
    const char *path = fz_file(0, "commands.jsonl", data + 1, size - 1);
    sk__session_load_log(s, path, err, sizeof err);
    free(s->log);
    s->log = NULL;
    s->log_n = s->log_pos = 0;
    return 0;
  }
  const char *p = (const char *)data + 1, *end = (const char *)data + size;
  const char *part[3] = {"", "", ""};
  size_t len[3] = {0, 0, 0};
  for (int i = 0; i < 3 && p <= end; i++) {
    const char *z = memchr(p, '\0', (size_t)(end - p));
    part[i] = p;
    len[i] = (size_t)((z ? z : end) - p);
    p += len[i] + 1;
  }
  sk_command c;
  memset(&c, 0, sizeof c);
  char kind[32];
  snprintf(kind, sizeof kind, "%.*s", (int)len[0], part[0]);
  if (sk_command_kind_parse(kind, &c.kind) != SK_OK)
    c.kind = (sk_command_kind)(data[0] >> 1) % SK_CMD_KIND_COUNT;
  snprintf(c.key, sizeof c.key, "%.*s", (int)len[1], part[1]);
  snprintf(c.value, sizeof c.value, "%.*s", (int)len[2], part[2]);
  sk_session_post(s, &c, err, sizeof err);
  pthread_mutex_lock(&s->mu);
  s->q_n = 0;
  s->paused = 0;
  s->speed = 0;
  pthread_mutex_unlock(&s->mu);
  return 0;
}
