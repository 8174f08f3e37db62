#include "cli.h"
#include <stdio.h>
int sk_replay_main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs("skadi replay: not built yet\n", stderr);
  return 2;
}
