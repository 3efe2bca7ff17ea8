/* kernels.c: instantiates every kernel template for float (f32) and double (f64). */
#define T float
#define SFX f32
#define T_MAX FLT_MAX
#include "cmf_template.h"
#include "drive.tmpl.c"
#include "softmax.tmpl.c"
#include "elementwise.tmpl.c"
#undef T
#undef SFX
#undef T_MAX

#define T double
#define SFX f64
#define T_MAX DBL_MAX
#include "cmf_template.h"
#include "drive.tmpl.c"
#include "softmax.tmpl.c"
#include "elementwise.tmpl.c"
#undef T
#undef SFX
#undef T_MAX
