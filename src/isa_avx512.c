/* The avx512 path of the kernels (flags set per file in CMakeLists.txt). */
#define CMF_ISA avx512
#include "kernels.c"
