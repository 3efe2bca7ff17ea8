/* The avx2 path of the kernels (flags set per file in CMakeLists.txt). */
#define CMF_ISA avx2
#include "kernels.c"
