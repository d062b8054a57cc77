// Writes SIZE bytes of deterministic, compressible text (words from a fixed pseudo-random
// vocabulary) to stdout: the fixed input for the real-program tests and the benchmark.
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: dmt_gen_input SIZE\n");
    return 2;
  }
  long size = atol(argv[1]);
  unsigned long x = 42;
  char vocab[4096][12];
  for (int w = 0; w < 4096; ++w) {
    x = x * 6364136223846793005ul + 1442695040888963407ul;
    int len = 2 + (int)((x >> 33) % 9);
    for (int i = 0; i < len; ++i) {
      x = x * 6364136223846793005ul + 1442695040888963407ul;
      vocab[w][i] = (char)('a' + (x >> 35) % 16);
    }
    vocab[w][len] = '\0';
  }
  long written = 0;
  while (written < size) {
    x = x * 6364136223846793005ul + 1442695040888963407ul;
    written += fprintf(stdout, "%s%c", vocab[(x >> 30) % 4096], (x >> 20) % 13 == 0 ? '\n' : ' ');
  }
  return 0;
}
