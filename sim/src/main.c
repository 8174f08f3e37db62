#include <stdio.h>
int main(void) {
  fputs("skadi: under construction\n", stderr);
  return 1;
}
