/* dispatch.c: the public kernel names, each forwarding to one instruction-set path.
 *
 * The paths are tables of function pointers built at compile time (const).  The only
 * mutable state of the C core is `active`, the table chosen once by cmf_select_isa() at
 * import, before any kernel can run; afterwards it is only read. */
#include "cmaxfam.h"

/* set by the build when isa_avx2.c and isa_avx512.c are compiled in */
#ifdef CMF_HAVE_X86_PATHS
#define CMF_X86 1
#endif

typedef struct {
#define CMF_OP(name, params, args) cmf_status(*name##_f32) params; cmf_status(*name##_f64) params;
#include "cmf_ops.def"
#undef CMF_OP
} cmf_table;

#define CMF_OP(name, params, args) \
    cmf_status cmf_##name##_f32_baseline params; cmf_status cmf_##name##_f64_baseline params;
#include "cmf_ops.def"
#undef CMF_OP
static const cmf_table table_baseline = {
#define CMF_OP(name, params, args) cmf_##name##_f32_baseline, cmf_##name##_f64_baseline,
#include "cmf_ops.def"
#undef CMF_OP
};

#ifdef CMF_X86
#define CMF_OP(name, params, args) \
    cmf_status cmf_##name##_f32_avx2 params; cmf_status cmf_##name##_f64_avx2 params; \
    cmf_status cmf_##name##_f32_avx512 params; cmf_status cmf_##name##_f64_avx512 params;
#include "cmf_ops.def"
#undef CMF_OP
static const cmf_table table_avx2 = {
#define CMF_OP(name, params, args) cmf_##name##_f32_avx2, cmf_##name##_f64_avx2,
#include "cmf_ops.def"
#undef CMF_OP
};
static const cmf_table table_avx512 = {
#define CMF_OP(name, params, args) cmf_##name##_f32_avx512, cmf_##name##_f64_avx512,
#include "cmf_ops.def"
#undef CMF_OP
};
#endif

static const cmf_table *active = &table_baseline;
static int active_isa = CMF_ISA_BASELINE;

#ifdef CMF_X86
#if defined(_MSC_VER)
#include <intrin.h>
static void cpuid(int leaf, int sub, unsigned r[4]) { int v[4]; __cpuidex(v, leaf, sub); for (int i = 0; i < 4; i++) r[i] = (unsigned)v[i]; }
static unsigned long long xgetbv0(void) { return _xgetbv(0); }
#else
#include <cpuid.h>
static void cpuid(int leaf, int sub, unsigned r[4]) { __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]); }
static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif
#endif

int cmf_detect_isa(void)
{
#ifdef CMF_X86
    unsigned r[4];
    cpuid(0, 0, r);
    unsigned maxleaf = r[0];
    if (maxleaf < 7) return CMF_ISA_BASELINE;
    cpuid(1, 0, r);
    int osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1, fma = (r[2] >> 12) & 1;
    int popcnt = (r[2] >> 23) & 1;        /* GCC emits popcnt under -mavx2 (the sparse passes) */
    if (!(osxsave && avx && fma && popcnt)) return CMF_ISA_BASELINE;
    unsigned long long xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return CMF_ISA_BASELINE;           /* XMM and YMM state */
    cpuid(7, 0, r);
    int avx2 = (r[1] >> 5) & 1;
    int avx512f = (r[1] >> 16) & 1, avx512dq = (r[1] >> 17) & 1;
    int avx512bw = (r[1] >> 30) & 1, avx512vl = (r[1] >> 31) & 1;
    if (!avx2) return CMF_ISA_BASELINE;
    if (avx512f && avx512dq && avx512bw && avx512vl && (xcr0 & 0xE6) == 0xE6)  /* opmask, ZMM */
        return CMF_ISA_AVX512;
    return CMF_ISA_AVX2;
#else
    return CMF_ISA_BASELINE;
#endif
}

int cmf_select_isa(int requested)
{
    int isa = cmf_detect_isa();
    if (requested >= 0 && requested < isa) isa = requested;
#ifdef CMF_X86
    active = isa == CMF_ISA_AVX512 ? &table_avx512 : isa == CMF_ISA_AVX2 ? &table_avx2 : &table_baseline;
#else
    isa = CMF_ISA_BASELINE;
    active = &table_baseline;
#endif
    active_isa = isa;
    return isa;
}

int cmf_active_isa(void) { return active_isa; }

#define CMF_OP(name, params, args) \
    cmf_status cmf_##name##_f32 params { return active->name##_f32 args; } \
    cmf_status cmf_##name##_f64 params { return active->name##_f64 args; }
#include "cmf_ops.def"
#undef CMF_OP
