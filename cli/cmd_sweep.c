/*
 * cmd_sweep.c -- `skadi sweep FILE --out X.h5 [-j N]`: a parameter sweep (sweep.h) run by
 * local worker processes or MPI ranks, into one HDF5 file; `skadi sweep report X.h5`
 * prints it and draws its Pareto fronts (sweep_report.c).
 *
 * Workers are processes, not threads: a run that records (--record-runs) holds HDF5
 * state, which cannot be shared across threads, and a crashing run takes only its own
 * process with it (its row says so).  The parent forks one child per run, at most -j at
 * a time; the child runs the session with a thread budget of 1, writes its row (a plain
 * struct) to a pipe and exits.  The parent measures each run's wall time, keeps the rows,
 * and writes the file once at the end -- or when SIGINT/SIGTERM stops it: the running
 * children are ended, the finished rows are written with status "interrupted", and
 * --resume runs only what is missing.  Each finished row is also appended to
 * "<out>.journal" and synced as it comes (sweep_journal.c), so that a SIGKILL loses only
 * the runs in flight: --resume reads the journal beside the file's rows.  The journal is
 * removed once the file holding its rows is in place.
 *
 * Under mpirun (SKADI_HAVE_MPI builds, started by mpirun: OMPI_COMM_WORLD_SIZE is set)
 * rank 0 hands out runs one at a time as ranks ask for work and writes the file; the other
 * ranks run sessions in-process.  The table is the same as a local run's: every run's seed
 * and figures depend only on the sweep file (sweep.h).
 *
 * Exit status: 0 done (failed runs are rows, not an error), 1 the output cannot be
 * written, 2 bad input (flag, sweep file, base scenario, an existing --out), 130/143
 * stopped by SIGINT/SIGTERM (finished rows kept).
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef SKADI_HAVE_MPI
#include <mpi.h>
#endif

#include "outfile.h"
#include "skadi/scenario.h"
#include "skadi/session.h"
#include "skadi/sweep.h"
#include "sweep_report.h"

#ifndef SKADI_VERSION
#define SKADI_VERSION "0.0.0"
#endif

static volatile sig_atomic_t stop_signal = 0;
static volatile int stop_flag = 0; /* what sk_sweep_run polls (an int, as it takes) */
static void on_signal(int sig) {
  stop_signal = sig;
  stop_flag = 1;
}

static double wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void usage(FILE *f) {
  fputs("usage: skadi sweep SWEEP.json --out SWEEP.h5 [options]\n"
        "       skadi sweep report SWEEP.h5 [--plot FRONT.svg] (skadi sweep report --help)\n"
        "\n"
        "Runs a parameter sweep: the base scenario with settings varied over grids, lists,\n"
        "random or Latin-hypercube samples, each point repeated over seeds, every run a\n"
        "session with its counterfactual.  One HDF5 file holds a row per run, each point's\n"
        "mean, standard deviation and 95 % confidence interval, which points meet the\n"
        "constraints, and the Pareto fronts (docs/SWEEPS.md).\n"
        "\n"
        "options:\n"
        "  --out PATH          the sweep file to write (required); an existing PATH is an\n"
        "                      error unless --force or --resume\n"
        "  -j, --jobs N        worker processes (default: the machine's cores); the table\n"
        "                      does not depend on N\n"
        "  --resume            PATH (or PATH.journal, the rows of a killed sweep) holds an\n"
        "                      interrupted sweep of the same file: run only the runs it\n"
        "                      lacks and rewrite it\n"
        "  --force             replace an existing PATH\n"
        "  --record-runs DIR   also record each run to DIR/<sweep>-p<point>-s<seed>.h5\n"
        "  --dry-run           check the sweep file and its base scenario, list the points\n"
        "                      and the runs' seeds, run nothing (no --out needed)\n"
        "  --progress          always show the progress bar (default: only on a terminal)\n"
        "  --no-progress       never show it\n"
        "  -h, --help          this help\n"
        "\n"
        "Under mpirun (a build with MPI): rank 0 hands out the runs and writes PATH, the\n"
        "other ranks run them: mpirun -n 8 skadi sweep SWEEP.json --out SWEEP.h5\n"
        "Exit status: 0 done (failed runs are rows with their message), 1 PATH cannot be\n"
        "written, 2 bad input (flag, sweep file, base scenario), 130/143 stopped by\n"
        "SIGINT/SIGTERM (the finished rows are kept; --resume continues).  Each finished\n"
        "row is also kept in PATH.journal until PATH is written, so even a SIGKILL loses\n"
        "only the runs in flight.\n"
        "Example: skadi sweep scenarios/sweeps/fixed_policy.json --out sweeps/fixed.h5\n",
        f);
}

/* "skadi sweep: <message>" on stderr; returns 2, the exit status of bad input */
#define bad(...) sk_cli_bad("sweep", __VA_ARGS__)

/* ---- options and shared state ------------------------------------------------------------ */

typedef struct {
  const char *sweep_path, *out, *record_dir;
  int jobs, resume, force, progress, dry_run;
} options;

typedef struct {
  const sk_sweep *sw;
  const options *opt;
  sk_sweep_result *rows; /* finished rows, n_rows of them (any order) */
  size_t n_rows;
  unsigned char *have; /* [n_runs]: a row exists */
  size_t *todo;        /* jobs to run, in job order */
  size_t n_todo;
  size_t n_failed;
  double t0, last_prog;
  size_t done_here;   /* runs finished in this invocation */
  double prev_wall_s; /* s, the wall time of the invocations --resume continues */
  int prev_workers;   /* and their worker count (kept when this one runs nothing) */
  sk_sweep_journal *journal; /* rank 0: each finished row, synced as it comes */
  int journal_failed;        /* a row could not be journaled (said once) */
  size_t from_journal;       /* rows --resume took from the journal */
} sweep_state;

static void record_path(const sweep_state *s, size_t job, char *buf, size_t len) {
  size_t n = sk_sweep_n_seeds(s->sw);
  snprintf(buf, len, "%s/%s-p%zu-s%zu.h5", s->opt->record_dir, sk_sweep_name(s->sw), job / n,
           job % n);
}

static void fmt_eta(double s, char *buf, size_t len) {
  if (!isfinite(s) || s < 0)
    snprintf(buf, len, "--");
  else if (s < 120)
    snprintf(buf, len, "%.0f s", s);
  else if (s < 7200)
    snprintf(buf, len, "%.0f min", s / 60);
  else
    snprintf(buf, len, "%.1f h", s / 3600);
}

static void progress(sweep_state *s, int force) {
  if (!s->opt->progress)
    return;
  double w = wall_now();
  if (!force && w - s->last_prog < 0.2)
    return;
  s->last_prog = w;
  size_t total = sk_sweep_n_runs(s->sw), done = s->n_rows;
  double el = w - s->t0, rate = el > 0 ? (double)s->done_here / el : 0;
  size_t left = total - done;
  char eta[32];
  fmt_eta(rate > 0 ? (double)left / rate : NAN, eta, sizeof eta);
  int width = 30, fill = total ? (int)((double)done / (double)total * width) : width;
  char bar[32];
  for (int i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = 0;
  fprintf(stderr, "\r[%s] %zu/%zu runs  %.2f runs/s  eta %s", bar, done, total, rate, eta);
  if (s->n_failed)
    fprintf(stderr, "  (%zu failed)", s->n_failed);
  fputs("   ", stderr);
  fflush(stderr);
}

static void add_row(sweep_state *s, const sk_sweep_result *r) {
  size_t job = (size_t)r->point * sk_sweep_n_seeds(s->sw) + (size_t)r->seed_index;
  if (s->have[job])
    return;
  s->have[job] = 1;
  s->rows[s->n_rows++] = *r;
  s->done_here++;
  if (r->status != SK_SWEEP_RUN_OK)
    s->n_failed++;
  char err[1200];
  if (s->journal && !s->journal_failed &&
      sk_sweep_journal_add(s->journal, r, err, sizeof err) != SK_OK) {
    /* the sweep goes on: its file is still written at the end */
    fprintf(stderr, "\nskadi sweep: %s; from now on a SIGKILL loses the rows not yet in %s\n", err,
            s->opt->out);
    s->journal_failed = 1;
  }
}

/* ---- local workers ------------------------------------------------------------------------- */

typedef struct {
  pid_t pid;
  int fd;
  size_t job;
  double t0;
  size_t got;
  sk_sweep_result row;
} worker;

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static pid_t sweep_parent; /* the process that forks the workers */

/* The child: one run, its row down the pipe, then _exit (no atexit handler, no stdio
 * flush of the parent's buffers). */
static void child_main(const sweep_state *s, size_t job, int fd) {
  /* Ctrl-C reaches the whole process group: the parent alone decides, and ends its
   * children with SIGTERM */
  signal(SIGINT, SIG_IGN);
  signal(SIGTERM, SIG_DFL);
#ifdef __linux__
  /* a parent killed with SIGKILL cannot end its children: the kernel does, rather than
   * leave them running sessions nobody will read */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != sweep_parent) /* it died before prctl */
    _exit(1);
#endif
  char rec[SK_PATH_LEN + 64];
  if (s->opt->record_dir)
    record_path(s, job, rec, sizeof rec);
  sk_sweep_result row;
  sk_sweep_run(s->sw, job, s->opt->record_dir ? rec : NULL, NULL, &row);
  _exit(write_all(fd, &row, sizeof row) == 0 ? 0 : 1);
}

static int spawn(sweep_state *s, worker *w, size_t job) {
  int p[2];
  sweep_parent = getpid();
  if (pipe(p) != 0)
    return -1;
  fflush(stderr);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    close(p[0]);
    child_main(s, job, p[1]);
  }
  close(p[1]);
  *w = (worker){pid, p[0], job, wall_now(), 0, {0}};
  return 0;
}

/* A worker's pipe closed: reap it and keep its row, or a failed row if it died -- unless
 * it was killed from outside (SIGTERM, SIGKILL: an interruption, not a failure of the
 * run), which leaves the run to --resume. */
static void reap(sweep_state *s, worker *w) {
  int st = 0;
  close(w->fd);
  while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
    ;
  w->pid = 0;
  if (w->got != sizeof w->row && WIFSIGNALED(st) &&
      (WTERMSIG(st) == SIGTERM || WTERMSIG(st) == SIGKILL || WTERMSIG(st) == SIGINT))
    return;
  if (w->got != sizeof w->row) {
    size_t n = sk_sweep_n_seeds(s->sw);
    memset(&w->row, 0, sizeof w->row);
    w->row.point = (int32_t)(w->job / n);
    w->row.seed_index = (int32_t)(w->job % n);
    w->row.seed = sk_sweep_seed(s->sw, w->job / n, w->job % n);
    w->row.status = SK_SWEEP_RUN_FAILED;
    for (int m = 0; m < SK_SWEEP_METRIC_COUNT; m++)
      w->row.m[m] = NAN;
    if (WIFSIGNALED(st))
      snprintf(w->row.message, sizeof w->row.message, "worker died: signal %d (%s)", WTERMSIG(st),
               strsignal(WTERMSIG(st)));
    else
      snprintf(w->row.message, sizeof w->row.message, "worker exited with status %d and no row",
               WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  }
  w->row.wall_s = wall_now() - w->t0;
  add_row(s, &w->row);
}

/* Runs s->todo with at most jobs children.  Returns 0, or -1 when fork/pipe failed (the
 * rows so far are kept). */
static int run_local(sweep_state *s, int jobs) {
  worker *ws = calloc((size_t)jobs, sizeof *ws);
  struct pollfd *pf = calloc((size_t)jobs, sizeof *pf);
  int *idx = calloc((size_t)jobs, sizeof *idx);
  if (!ws || !pf || !idx) {
    free(ws), free(pf), free(idx);
    return -1;
  }
  size_t next = 0;
  int running = 0, rc = 0;
  for (;;) {
    for (int i = 0; i < jobs && !stop_signal && rc == 0 && next < s->n_todo; i++) {
      if (ws[i].pid != 0)
        continue;
      if (spawn(s, &ws[i], s->todo[next]) != 0) {
        fprintf(stderr, "\nskadi sweep: cannot start a worker: %s\n", strerror(errno));
        rc = -1;
        break;
      }
      next++;
      running++;
    }
    if (running == 0)
      break;
    if (stop_signal) { /* end the runs in flight; their rows are lost, --resume redoes them */
      for (int i = 0; i < jobs; i++)
        if (ws[i].pid) {
          kill(ws[i].pid, SIGTERM);
          close(ws[i].fd);
          while (waitpid(ws[i].pid, NULL, 0) < 0 && errno == EINTR)
            ;
          ws[i].pid = 0;
        }
      break;
    }
    int n = 0;
    for (int i = 0; i < jobs; i++)
      if (ws[i].pid) {
        pf[n] = (struct pollfd){ws[i].fd, POLLIN, 0};
        idx[n++] = i;
      }
    int pr = poll(pf, (nfds_t)n, 200);
    if (pr < 0 && errno != EINTR) {
      rc = -1;
      break;
    }
    for (int k = 0; pr > 0 && k < n; k++) {
      if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      worker *w = &ws[idx[k]];
      char *dst = (char *)&w->row + w->got;
      size_t room = sizeof w->row - w->got;
      char scratch[64];
      ssize_t r = room ? read(w->fd, dst, room) : read(w->fd, scratch, sizeof scratch);
      if (r < 0 && errno == EINTR)
        continue;
      if (r > 0 && room) {
        w->got += (size_t)r;
      } else if (r <= 0) {
        reap(s, w);
        running--;
      }
    }
    progress(s, 0);
  }
  free(ws), free(pf), free(idx);
  return rc;
}

/* ---- MPI ----------------------------------------------------------------------------------- */

#ifdef SKADI_HAVE_MPI
enum { TAG_RESULT = 1, TAG_WORK = 2, TAG_STOP = 3 };

/* Started by mpirun (OpenMPI sets these; other launchers PMI_SIZE). */
static int under_mpirun(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

/* Rank 0: hands out s->todo as ranks ask, gathers their rows. */
static void mpi_manager(sweep_state *s, int size, int refuse) {
  size_t next = 0;
  int stopped = 0;
  while (stopped < size - 1) {
    sk_sweep_result r;
    MPI_Status ms;
    MPI_Request req;
    int got = 0;
    /* Poll with a nap, not MPI_Recv: OpenMPI's blocking receive spins, and rank 0 would
     * burn a core that a worker rank could use (mpirun -n N+1 on N cores) */
    MPI_Irecv(&r, (int)sizeof r, MPI_BYTE, MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &req);
    for (;;) {
      MPI_Test(&req, &got, &ms);
      if (got)
        break;
      struct timespec nap = {0, 2 * 1000 * 1000};
      nanosleep(&nap, NULL);
      progress(s, 0);
    }
    if (r.point >= 0)
      add_row(s, &r);
    if (refuse || stop_signal || next >= s->n_todo) {
      MPI_Send(NULL, 0, MPI_BYTE, ms.MPI_SOURCE, TAG_STOP, MPI_COMM_WORLD);
      stopped++;
    } else {
      unsigned long long job = s->todo[next++];
      MPI_Send(&job, 1, MPI_UNSIGNED_LONG_LONG, ms.MPI_SOURCE, TAG_WORK, MPI_COMM_WORLD);
    }
    progress(s, 0);
  }
}

/* Other ranks: ask, run, answer, until told to stop. */
static void mpi_worker(const sweep_state *s) {
  sk_sweep_result r;
  memset(&r, 0, sizeof r);
  r.point = -1; /* the first message only asks for work */
  for (;;) {
    MPI_Send(&r, (int)sizeof r, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD);
    MPI_Status ms;
    MPI_Request req;
    unsigned long long job = 0;
    int got = 0;
    MPI_Irecv(&job, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &req);
    for (;;) { /* the answer comes at once unless rank 0 is busy: nap, do not spin */
      MPI_Test(&req, &got, &ms);
      if (got)
        break;
      struct timespec nap = {0, 1000 * 1000};
      nanosleep(&nap, NULL);
    }
    if (ms.MPI_TAG == TAG_STOP)
      return;
    char rec[SK_PATH_LEN + 64];
    if (s->opt->record_dir)
      record_path(s, (size_t)job, rec, sizeof rec);
    double t0 = wall_now();
    if (sk_sweep_run(s->sw, (size_t)job, s->opt->record_dir ? rec : NULL, &stop_flag, &r) ==
        SK_EINTR)
      r.point = -1; /* stopped: no row; rank 0 stops too and writes what it has */
    r.wall_s = wall_now() - t0;
  }
}
#endif

/* ---- the command ---------------------------------------------------------------------------- */

static int parse_options(int argc, char **argv, options *o) {
  memset(o, 0, sizeof *o);
  long nc = sysconf(_SC_NPROCESSORS_ONLN);
  o->jobs = nc > 0 ? (int)nc : 1;
  o->progress = isatty(STDERR_FILENO);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      usage(stdout);
      return -1;
    } else if (strcmp(a, "--out") == 0) {
      if (!val)
        return bad("--out: missing value");
      o->out = val;
      i++;
    } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) {
      if (!val)
        return bad("%s: missing value", a);
      char *end;
      errno = 0;
      long j = strtol(val, &end, 10);
      if (errno || end == val || *end || j < 1 || j > 1024)
        return bad("%s: '%s' is not a whole number from 1 to 1024", a, val);
      o->jobs = (int)j;
      i++;
    } else if (strcmp(a, "--record-runs") == 0) {
      if (!val)
        return bad("--record-runs: missing value");
      o->record_dir = val;
      i++;
    } else if (strcmp(a, "--dry-run") == 0) {
      o->dry_run = 1;
    } else if (strcmp(a, "--resume") == 0) {
      o->resume = 1;
    } else if (strcmp(a, "--force") == 0) {
      o->force = 1;
    } else if (strcmp(a, "--progress") == 0) {
      o->progress = 1;
    } else if (strcmp(a, "--no-progress") == 0) {
      o->progress = 0;
    } else if (a[0] == '-' && a[1]) {
      return bad("unknown option '%s' (see skadi sweep --help)", a);
    } else if (!o->sweep_path) {
      o->sweep_path = a;
    } else {
      return bad("unexpected argument '%s' (one sweep file only)", a);
    }
  }
  if (!o->sweep_path)
    return bad("missing SWEEP.json (see skadi sweep --help)");
  if (!o->out && !o->dry_run)
    return bad("--out: missing: name the sweep file to write (e.g. --out sweeps/x.h5)");
  if (o->resume && o->force)
    return bad("--resume and --force: pick one (--force starts over)");
  return 0;
}

/* Takes a row an earlier invocation finished (from the file or the journal): 1, or 0 when
 * it is out of range or already held. */
static int keep_row(sweep_state *s, const sk_sweep_result *r) {
  size_t n = sk_sweep_n_runs(s->sw);
  if (r->point < 0 || r->seed_index < 0 || (size_t)r->seed_index >= sk_sweep_n_seeds(s->sw))
    return 0;
  size_t job = (size_t)r->point * sk_sweep_n_seeds(s->sw) + (size_t)r->seed_index;
  if (job >= n || s->have[job])
    return 0;
  s->have[job] = 1;
  s->rows[s->n_rows++] = *r;
  if (r->status != SK_SWEEP_RUN_OK)
    s->n_failed++;
  return 1;
}

/* Takes the rows of an interrupted sweep of the same file at o->out. */
static int load_resume(sweep_state *s) {
  char err[1024];
  sk_sweep_table *t = NULL;
  sk_status st = sk_sweep_file_read(s->opt->out, &t, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi sweep: --resume: %s\n", err);
    return st == SK_EIO || st == SK_ENOMEM ? 1 : 2;
  }
  if (strcmp(t->sweep_json, sk_sweep_json(s->sw)) != 0) {
    fprintf(stderr,
            "skadi sweep: --resume: %s was made from a different sweep (its /sweep differs "
            "from %s); use --force to start over\n",
            s->opt->out, s->opt->sweep_path);
    sk_sweep_table_destroy(t);
    return 2;
  }
  s->prev_wall_s = isfinite(t->wall_s) ? t->wall_s : 0;
  s->prev_workers = t->workers;
  for (size_t i = 0; i < t->n_rows; i++)
    keep_row(s, &t->rows[i]);
  sk_sweep_table_destroy(t);
  return 0;
}

/* Opens the journal beside o->out (fresh, or with --resume taking its rows).  0, or the
 * exit status with the message printed. */
static int open_journal(sweep_state *s, const char *jpath) {
  char err[1400];
  sk_sweep_result *rows = NULL;
  size_t n = 0;
  sk_status st =
      sk_sweep_journal_open(jpath, s->sw, s->opt->resume, &s->journal, &rows, &n, err, sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi sweep: %s%s\n", s->opt->resume ? "--resume: " : "", err);
    return st == SK_EPARSE || st == SK_EINVAL ? 2 : 1;
  }
  for (size_t i = 0; i < n; i++)
    s->from_journal += (size_t)keep_row(s, &rows[i]);
  free(rows);
  return 0;
}

/* --dry-run: what the sweep would run. */
static void dry_run(const sk_sweep *sw, const char *scen_name) {
  printf("sweep %s: scenario %s (%s), mode %s%s\n", sk_sweep_name(sw), scen_name,
         sk_sweep_scenario_path(sw), sk_sweep_mode(sw),
         isnan(sk_sweep_duration_s(sw)) ? ", the scenario's duration" : "");
  if (!isnan(sk_sweep_duration_s(sw)))
    printf("  duration %.0f s\n", sk_sweep_duration_s(sw));
  printf("  %zu points x %zu seeds = %zu runs; seeds:", sk_sweep_n_points(sw), sk_sweep_n_seeds(sw),
         sk_sweep_n_runs(sw));
  for (size_t i = 0; i < sk_sweep_n_seeds(sw) && i < 8; i++)
    printf(" %llu", (unsigned long long)sk_sweep_seed(sw, sk_sweep_n_points(sw) - 1, i));
  printf("%s\n", sk_sweep_n_seeds(sw) > 8 ? " ..." : "");
  for (size_t c = 0; c < sk_sweep_n_constraints(sw); c++) {
    char t[128];
    sk_sweep_constraint_text(sw, c, t, sizeof t);
    printf("  constraint: %s\n", t);
  }
  for (size_t p = 0; p < sk_sweep_n_points(sw); p++) {
    char label[2048];
    sk_sweep_point_label(sw, p, label, sizeof label);
    printf("  %4zu  %s\n", p, label);
  }
}

static int sweep_run_main(int argc, char **argv) {
  options opt;
  int rc = parse_options(argc, argv, &opt);
  if (rc)
    return rc < 0 ? 0 : rc;
  int rank = 0, size = 1, mpi = 0;
#ifdef SKADI_HAVE_MPI
  if (under_mpirun()) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    mpi = 1;
    if (rank != 0)
      opt.progress = 0;
  }
#endif
  char err[2048], scen_name[64] = "";
  sk_sweep *sw = NULL;
  sk_status st = sk_sweep_load(&sw, opt.sweep_path, err, sizeof err);
  if (st == SK_OK)
    st = sk_sweep_check_base(sw, scen_name, sizeof scen_name, err, sizeof err);
  if (st != SK_OK) {
    if (rank == 0)
      fprintf(stderr, "skadi sweep: %s\n", err);
    sk_sweep_destroy(sw);
#ifdef SKADI_HAVE_MPI
    if (mpi)
      MPI_Finalize();
#endif
    return st == SK_ENOMEM ? 1 : 2;
  }
  if (opt.dry_run) {
    if (rank == 0)
      dry_run(sw, scen_name);
    sk_sweep_destroy(sw);
#ifdef SKADI_HAVE_MPI
    if (mpi)
      MPI_Finalize();
#endif
    return 0;
  }
  size_t n_runs = sk_sweep_n_runs(sw);
  sweep_state s = {0};
  s.sw = sw;
  s.opt = &opt;
  s.rows = calloc(n_runs, sizeof *s.rows);
  s.have = calloc(n_runs, 1);
  s.todo = calloc(n_runs, sizeof *s.todo);
  if (!s.rows || !s.have || !s.todo) {
    fputs("skadi sweep: out of memory\n", stderr);
    rc = 1;
    goto out;
  }
  int refuse = 0; /* rank 0 found a reason not to run: the other ranks are told to stop */
  char jpath[1100];
  if (rank == 0) {
    struct stat sb;
    int have_journal = 0;
    if (sk_sweep_journal_path(opt.out, jpath, sizeof jpath) != 0) {
      fprintf(stderr, "skadi sweep: --out: path too long\n");
      rc = 2;
    } else {
      have_journal = lstat(jpath, &sb) == 0;
    }
    if (rc) {
      ;
    } else if (opt.resume) {
      if (lstat(opt.out, &sb) == 0)
        rc = load_resume(&s);
      else if (!have_journal) {
        fprintf(stderr, "skadi sweep: --resume: %s: no such file to resume (nor %s)\n", opt.out,
                jpath);
        rc = 2;
      }
    } else if (sk_cli_out_check("skadi sweep", opt.out, opt.force) != 0) {
      rc = 2;
    } else if (have_journal && !opt.force) {
      fprintf(stderr,
              "skadi sweep: %s: holds the finished rows of a sweep that was killed before it "
              "wrote %s; --resume continues it, --force starts over\n",
              jpath, opt.out);
      rc = 2;
    }
    if (rc == 0 && sk_cli_out_make_parent("skadi sweep", opt.out) != 0)
      rc = 1;
    if (rc == 0)
      rc = open_journal(&s, jpath);
    if (rc == 0 && opt.resume)
      fprintf(stderr, "skadi sweep: --resume: %zu of %zu runs done (%zu from %s), %zu to run\n",
              s.n_rows, n_runs, s.from_journal, jpath, n_runs - s.n_rows);
    if (rc == 0 && opt.record_dir && mkdir(opt.record_dir, 0777) != 0 && errno != EEXIST) {
      fprintf(stderr, "skadi sweep: --record-runs: %s: %s\n", opt.record_dir, strerror(errno));
      rc = 1;
    }
    refuse = rc != 0;
  }
  for (size_t j = 0; j < n_runs; j++)
    if (!s.have[j])
      s.todo[s.n_todo++] = j;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int workers = opt.jobs;
  const char *how = "local";
  s.t0 = wall_now();
  if (rank == 0 && !refuse && opt.progress)
    fprintf(stderr, "skadi sweep: %s: %zu points x %zu seeds = %zu runs (%zu to run)\n",
            sk_sweep_name(sw), sk_sweep_n_points(sw), sk_sweep_n_seeds(sw), n_runs, s.n_todo);
  if (mpi && size > 1) {
#ifdef SKADI_HAVE_MPI
    how = "mpi";
    workers = size - 1;
    if (rank == 0)
      mpi_manager(&s, size, refuse);
    else
      mpi_worker(&s);
#endif
  } else if (!refuse) {
    if (mpi) { /* one rank: run in-process */
      how = "mpi";
      workers = 1;
      for (size_t k = 0; k < s.n_todo && !stop_signal; k++) {
        sk_sweep_result r;
        double t0 = wall_now();
        if (sk_sweep_run(sw, s.todo[k], NULL, &stop_flag, &r) == SK_EINTR)
          break;
        r.wall_s = wall_now() - t0;
        add_row(&s, &r);
        progress(&s, 0);
      }
    } else if (run_local(&s, workers) != 0) {
      rc = 1;
    }
  }
  if (rank != 0 || refuse)
    goto out;
  progress(&s, 1);
  if (opt.progress)
    fputc('\n', stderr);
  int complete = s.n_rows == n_runs;
  if (s.done_here == 0 && s.prev_workers > 0)
    workers = s.prev_workers;
  sk_sweep_file_info info = {s.prev_wall_s + wall_now() - s.t0,      workers,       how,
                             complete ? "completed" : "interrupted", SKADI_VERSION, scen_name};
  st = sk_sweep_file_write(opt.out, opt.force || opt.resume, sw, s.rows, s.n_rows, &info, err,
                           sizeof err);
  if (st != SK_OK) {
    fprintf(stderr, "skadi sweep: %s\n", err);
    if (s.journal && !s.journal_failed)
      fprintf(stderr, "skadi sweep: the %zu finished rows stay in %s: --resume continues\n",
              s.n_rows, jpath);
    rc = st == SK_EINVAL ? 2 : 1;
    goto out;
  }
  sk_sweep_journal_close(s.journal, 1); /* its rows are in the file now */
  s.journal = NULL;
  fprintf(stderr, "skadi sweep: %s: %zu of %zu runs (%zu failed), %s%s\n", opt.out, s.n_rows,
          n_runs, s.n_failed, complete ? "completed" : "interrupted",
          complete ? "" : "; --resume runs the rest");
  if (stop_signal)
    rc = 128 + (int)stop_signal;
  else if (rc == 0 && !complete)
    rc = 1;
out:
  sk_sweep_journal_close(s.journal, 0);
  free(s.rows);
  free(s.have);
  free(s.todo);
  sk_sweep_destroy(sw);
#ifdef SKADI_HAVE_MPI
  if (mpi)
    MPI_Finalize();
#endif
  return rc;
}

int sk_sweep_main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "report") == 0)
    return sk_sweep_report_main(argc - 1, argv + 1);
  return sweep_run_main(argc, argv);
}
