# Shared inline helpers of the Cython modules: building the C views of memoryviews, and
# turning a C status into a Python exception (the one place where that happens).
from cmaxfam._cy.kernels cimport cmf_status, cmf_geom, cmf_arr, CMF_OK, CMF_ENOMEM, cmf_select_isa

ctypedef fused floating:
    float
    double


cdef inline cmf_arr view(const void *p, const Py_ssize_t *strides, Py_ssize_t itemsize) noexcept nogil:
    """A cmf_arr over a 3-D memoryview; strides become element strides (the Python layer
    guarantees that they divide evenly)."""
    cdef cmf_arr a
    a.p = <void *>p
    a.so = strides[0] // itemsize
    a.sa = strides[1] // itemsize
    a.si = strides[2] // itemsize
    return a


cdef inline cmf_arr absent() noexcept nogil:
    cdef cmf_arr a
    a.p = NULL
    a.so = 0
    a.sa = 0
    a.si = 0
    return a


cdef inline cmf_geom geom(const Py_ssize_t *shape) noexcept nogil:
    cdef cmf_geom g
    g.n_outer = shape[0]
    g.n = shape[1]
    g.n_inner = shape[2]
    return g


cdef inline int check(cmf_status st) except -1:
    if st == CMF_OK:
        return 0
    if st == CMF_ENOMEM:
        raise MemoryError("cmaxfam: could not allocate kernel scratch memory")
    raise RuntimeError(f"cmaxfam: internal error in a C kernel (status {<int>st})")


ISA_NAMES = ("baseline", "avx2", "avx512")


cdef inline int init_isa() except -1:
    """Choose the instruction-set path of this module's copy of the C core: the best the
    CPU supports, or a lower one forced by the CMAXFAM_ISA environment variable.  Every
    module calls this at import, so they all make the same choice."""
    import os
    name = os.environ.get("CMAXFAM_ISA", "").strip().lower()
    levels = {"": -1, "best": -1, "baseline": 0, "sse2": 0, "avx2": 1, "avx512": 2}
    if name not in levels:
        raise ImportError(f"CMAXFAM_ISA must be one of baseline, avx2, avx512 or best; got {name!r}")
    cmf_select_isa(levels[name])
    return 0
