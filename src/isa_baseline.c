/* The baseline path of the kernels (flags set per file in CMakeLists.txt). */
#define CMF_ISA baseline
#include "kernels.c"
