/* Template machinery: a kernel family is written once in a *.tmpl.c file in terms of
 *   T        the element type (float or double)
 *   SFX      the name suffix (f32 or f64)
 *   FN(op)   the public name   cmf_<op>_<SFX>
 *   S(op)    a file-static name <op>_<SFX>
 *   EXPM(x)  exp(x) for x <= 0, LOG1PU(u), EXPM1M(x) (cmf_math.h)
 *   T_MAX    the largest finite T
 * and kernels.c includes it once per type (the PyWavelets pattern). */
#ifndef CMF_TEMPLATE_H
#define CMF_TEMPLATE_H

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmaxfam.h"
#include "cmf_math.h"
#include "cmf_simd.h"

#if defined(_MSC_VER)
#define CMF_RESTRICT __restrict
#else
#define CMF_RESTRICT __restrict__
#endif

#if defined(_MSC_VER)
#define CMF_INLINE __forceinline
#else
#define CMF_INLINE inline __attribute__((always_inline))
#endif

#define CMF_CAT_(a, b) a##b
#define CMF_CAT(a, b) CMF_CAT_(a, b)
#define CMF_CAT3(a, b, c) CMF_CAT(CMF_CAT(a, b), c)

/* lanes of the vectorisable reductions (a multiple of every SIMD width) */
#define CMF_LANES 16
/* sums are accumulated in T lanes over blocks of CMF_BLOCK elements, then in double */
#define CMF_BLOCK 256
/* slices per gathered tile of the column (lanes = slices) kernels */
#define CMF_COLS 64
/* most lanes of a column kernel run directly on the caller's array (a non-last axis):
 * wide blocks keep each pass a long contiguous walk (measured: 64-lane blocks of a
 * 1024 x 4096 float32 array cost 1.2 ns/element, 1024-lane 1.0, 4096-lane 0.85) */
#define CMF_COLS_MAX 4096
/* the column passes walk rows one after the other (lane state in memory) when the rows
 * are far apart (a non-last axis read in place), and blocks of rows one lane vector at a
 * time (state in registers) in tiles: the same arithmetic either way */
#define CMF_ROW_ORDER(ld) ((ld) > CMF_COLS)
/* doubles of lane workspace per lane that a column kernel may use (S(cols).ws) */
#define CMF_WS_PER_LANE 6

#endif

/* ---- per-type part: re-read on every inclusion ---- */
#undef FN
#undef S
#undef EXPM
#undef LOG1PU
#undef EXPM1M
#undef VMAX
#undef KEEP
#undef MAXC
#undef V
#undef VN
#undef VSET1
#undef VLD
#undef VST
#undef VLDT
#undef VSTT
#undef VADD
#undef VSUB
#undef VMUL
#undef VFMA
#undef VFMS
#undef VMAXPS
#undef VIS0
#undef VKEEPNZ
#undef VTOPACC
#undef VHSUM
#undef VHMAX
#undef VEXPM
#undef VDOT
#undef VDACC
#undef VDZERO
#undef VDADD
#undef VDSUM
#undef VNONFIN
#undef VTR
#undef VTRP
#undef VPERM
#undef VDADDST
#undef VRESCALE
#if !defined(T) || !defined(SFX)
#error "define T and SFX before including a template"
#endif
#ifndef CMF_ISA
#error "define CMF_ISA (baseline, avx2, avx512) before including kernels.c"
#endif
#define FN(op) CMF_CAT(CMF_CAT3(cmf_, op, CMF_CAT(_, SFX)), CMF_CAT(_, CMF_ISA))
#define S(op) CMF_CAT3(op, _, SFX)
#define EXPM(x) CMF_CAT(cmf_expm_, SFX)(x)
#define LOG1PU(x) CMF_CAT(cmf_log1pu_, SFX)(x)
#define EXPM1M(x) CMF_CAT(cmf_expm1m_, SFX)(x)
#define MAXC(n, x) CMF_CAT(cmf_max_, SFX)(n, x)
#define VMAX(B, m, x) CMF_CAT(cmf_vmax_, SFX)(B, m, x)
#define KEEP(c, a) CMF_CAT(cmf_keep_, SFX)(c, a)
#ifdef CMF_VEC
/* the vector primitives of cmf_simd.h for T */
#define V CMF_CAT(cmf_vec_, SFX)
#define VN CMF_CAT(CMF_VN_, SFX)
#define VSET1 CMF_CAT(cmf_vset1_, SFX)
#define VLD CMF_CAT(cmf_vld_, SFX)
#define VST CMF_CAT(cmf_vst_, SFX)
#define VLDT CMF_CAT(cmf_vldt_, SFX)
#define VSTT CMF_CAT(cmf_vstt_, SFX)
#define VADD CMF_CAT(cmf_vadd_, SFX)
#define VSUB CMF_CAT(cmf_vsub_, SFX)
#define VMUL CMF_CAT(cmf_vmul_, SFX)
#define VFMA CMF_CAT(cmf_vfma_, SFX)
#define VFMS CMF_CAT(cmf_vfms_, SFX)
#define VMAXPS CMF_CAT(cmf_vmax_ps_, SFX)
#define VIS0 CMF_CAT(cmf_vis0_, SFX)
#define VKEEPNZ CMF_CAT(cmf_vkeepnz_, SFX)
#define VTOPACC CMF_CAT(cmf_vtopacc_, SFX)
#define VHSUM CMF_CAT(cmf_vhsum_, SFX)
#define VHMAX CMF_CAT(cmf_vhmax_, SFX)
#define VEXPM CMF_CAT(cmf_vexpm_, SFX)
#define VDOT CMF_CAT(cmf_vdot_, SFX)
#define VDACC CMF_CAT(cmf_dacc_, SFX)
#define VDZERO CMF_CAT(cmf_vdzero_, SFX)
#define VDADD CMF_CAT(cmf_vdadd_, SFX)
#define VDSUM CMF_CAT(cmf_vdsum_, SFX)
#define VNONFIN CMF_CAT(cmf_vnonfinite_, SFX)
#define VTR CMF_CAT(cmf_vtr_, SFX)
#define VTRP CMF_CAT(cmf_vtrp_, SFX)
#define VPERM CMF_CAT(cmf_vperm_, SFX)
#define VDADDST CMF_CAT(cmf_vdaddst_, SFX)
#define VRESCALE CMF_CAT(cmf_vrescale_, SFX)
#endif
