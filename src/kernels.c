/* kernels.c: instantiates every kernel template for float (f32) and double (f64).
 *
 * Compiled once per instruction set (isa_*.c define CMF_ISA and include this file; the
 * build gives each its own flags).  Every helper is static, so no ISA-specific code can
 * leak into another path; the public entry points carry the ISA suffix and are reached
 * through the table in dispatch.c. */
#define T float
#define SFX f32
#define T_MAX FLT_MAX
#include "cmf_template.h"
#include "drive.tmpl.c"
#include "softmax.tmpl.c"
#include "sparse.tmpl.c"
#include "elementwise.tmpl.c"
#include "losses.tmpl.c"
#include "sampling.tmpl.c"
#undef T
#undef SFX
#undef T_MAX

#define T double
#define SFX f64
#define T_MAX DBL_MAX
#include "cmf_template.h"
#include "drive.tmpl.c"
#include "softmax.tmpl.c"
#include "sparse.tmpl.c"
#include "elementwise.tmpl.c"
#include "losses.tmpl.c"
#include "sampling.tmpl.c"
#undef T
#undef SFX
#undef T_MAX
