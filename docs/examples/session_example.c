/* session_example.c -- drive a run of the twin through the library's run session.
 * Built and run by the tests (tests/CMakeLists.txt); shown in docs/LIBRARY.md. */
#include <stdio.h>
#include <stdlib.h>

#include "skadi/session.h"

int main(int argc, char **argv) {
  char err[SK_ERR_LEN];
  sk_session_config cfg;
  sk_session_config_init(&cfg);
  cfg.scenario_path = argc > 1 ? argv[1] : "scenarios/baseline.json";
  const char *sets[] = {"INLET_MAX_C=27", "control.ims_warmup_s=600"};
  cfg.sets = sets;
  cfg.n_sets = 2;
  cfg.duration_s = 3600;               /* NaN (the default): the scenario's */
  cfg.mode = "closed_loop";            /* off | on | advisory | closed_loop */
  cfg.record_path = argc > 2 ? argv[2] : NULL; /* NULL: no recording */
  cfg.threads = 2;                     /* the budget: counterfactual + what-if forks */
  cfg.source = "example";

  sk_session *s;
  if (sk_session_create(&s, &cfg, err, sizeof err) != SK_OK) {
    fprintf(stderr, "%s\n", err);      /* "<file>: <field>: <reason>" */
    return 2;
  }
  sk_session_snapshot *snap = malloc(sizeof *snap); /* large: every rack's row */
  if (!snap)
    return 1;
  int minute = 0;
  while (!sk_session_done(s)) {
    if (sk_session_step_until(s, sk_session_now(s) + 60 * 1000000000LL) != SK_OK)
      break;                           /* sticky: sk_session_error(s) says why */
    if (++minute == 40) {              /* an operator flips the kill switch */
      sk_command c = {SK_CMD_KILL_SWITCH, "", "true", "operator"};
      if (sk_session_post(s, &c, err, sizeof err) != SK_OK)
        fprintf(stderr, "%s\n", err);
    }
    if (minute % 10 == 0) {
      sk_session_snapshot_get(s, snap);
      printf("%5.0f s  %.4f Wh/prompt  saved %5.2f %%  %d actions applied%s\n",
             (double)snap->now_ns * 1e-9, snap->room.j_per_prompt_wh_cum,
             snap->energy_saved_pct, snap->control.applied,
             snap->kill_switch ? "  (kill switch on)" : "");
    }
  }
  int ok = sk_session_status(s) == SK_OK;
  if (!ok)
    fprintf(stderr, "%s\n", sk_session_error(s));
  if (sk_session_finish(s, NULL, ok ? "completed" : "failed") != SK_OK)
    fprintf(stderr, "%s\n", sk_session_error(s));
  sk_session_summary sum;
  sk_session_summary_get(s, &sum);
  printf("%.4f Wh/prompt against %.4f for the counterfactual, %lld command(s)\n",
         sum.run.wh_per_prompt, sum.cf.wh_per_prompt, (long long)sum.commands_applied);
  sk_session_destroy(s);
  free(snap);
  return ok ? 0 : 1;
}
