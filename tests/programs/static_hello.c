/* Statically linked on purpose: wstrace must refuse it with a clear message. */
#include <stdio.h>
int main(void) {
  puts("hello from a static program");
  return 0;
}
