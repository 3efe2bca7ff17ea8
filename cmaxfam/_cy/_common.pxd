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


# ---------- the common call, checked without Python ----------
# A C-contiguous float32/float64 ndarray along its last axis, a Python scalar temperature
# (and alpha), no where, one thread, and no out or a usable one: the compiled entry points
# *_common of each module check it and run the kernel with the very geometry and views the
# general path (cmaxfam._plumbing) would build, so they give its bits; for any other call
# they return None and the Python layer validates, plans and runs as before.
cimport numpy as cnp
from libc.math cimport INFINITY

cdef inline bint _overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Whether the memory of two contiguous arrays overlaps (np.may_share_memory's bounds)."""
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    return pa < pb + cnp.PyArray_NBYTES(b) and pb < pa + cnp.PyArray_NBYTES(a)


cdef inline bint same_lead_dims(cnp.ndarray b, cnp.ndarray a, int nd) noexcept:
    """b has nd dimensions, equal to a's first nd."""
    cdef int i
    if cnp.PyArray_NDIM(b) != nd:
        return False
    for i in range(nd):
        if cnp.PyArray_DIMS(b)[i] != cnp.PyArray_DIMS(a)[i]:
            return False
    return True


cdef inline bint _twin(object v, cnp.ndarray a, int nd) noexcept:
    """v is an ndarray (not a subclass) of a's dtype (native), C-contiguous and aligned, of
    nd dimensions equal to a's first nd (nd = a's: a's shape; one less: its slices')."""
    cdef cnp.ndarray b
    if not cnp.PyArray_CheckExact(v):
        return False
    b = <cnp.ndarray>v
    if cnp.PyArray_TYPE(b) != cnp.PyArray_TYPE(a) or not cnp.PyArray_ISNOTSWAPPED(b):
        return False
    return same_lead_dims(b, a, nd) and cnp.PyArray_IS_C_CONTIGUOUS(b) and cnp.PyArray_ISALIGNED(b)


cdef inline bint common_input(object x, object axis, object temperature, object n_threads,
                              bint elementwise, cmf_geom *g, cmf_arr *xa, double *t):
    """Whether the call is the common one: x a C-contiguous,
    aligned, native float32/float64 ndarray (not a subclass) with entries; axis -1 or the
    last; a Python float or int temperature, positive and finite; one thread
    (``elementwise``: a last axis of length 1 only for 1-d x).  Fills the geometry, x's
    view as that function builds it and the temperature: the kernels then give the
    general path's bits."""
    cdef cnp.ndarray a
    cdef int nd, typ
    cdef Py_ssize_t n, size, O
    cdef double tv
    if not cnp.PyArray_CheckExact(x) or type(n_threads) is not int or type(axis) is not int:
        return False
    if n_threads != 1:
        return False
    a = <cnp.ndarray>x
    typ = cnp.PyArray_TYPE(a)
    nd = cnp.PyArray_NDIM(a)
    if (typ != cnp.NPY_FLOAT and typ != cnp.NPY_DOUBLE) or not cnp.PyArray_ISNOTSWAPPED(a) or nd == 0:
        return False
    if (axis != -1 and axis != nd - 1) or not (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_ISALIGNED(a)):
        return False
    n = cnp.PyArray_DIMS(a)[nd - 1]
    size = cnp.PyArray_SIZE(a)
    if n == 0 or size == 0 or (elementwise and n == 1 and nd > 1):
        return False
    if type(temperature) is float:
        tv = <double>temperature
        if not (0.0 < tv and tv - tv == 0.0):          # positive and finite (NaN fails)
            return False
    elif type(temperature) is int:
        if not (0 < temperature <= 4503599627370496):   # (2**52: exact as a double)
            return False
        tv = <double>temperature
    else:
        return False
    O = size // n
    g.n_outer = O
    g.n = n
    g.n_inner = 1
    xa.p = cnp.PyArray_DATA(a)
    xa.so = n if O > 1 else 0
    xa.sa = 1
    xa.si = 0
    t[0] = tv
    return True


cdef inline bint common_like(object v, object x, const cmf_arr *xa, cmf_arr *va):
    """Whether a second input v (a cotangent) is x's twin (see _twin); fills its view."""
    if not _twin(v, <cnp.ndarray>x, cnp.PyArray_NDIM(<cnp.ndarray>x)):
        return False
    va[0] = xa[0]
    va.p = cnp.PyArray_DATA(<cnp.ndarray>v)
    return True


cdef inline object common_out(object out, object x, object v, const cmf_arr *xa, cmf_arr *ya):
    """Where the common call writes its result of x's shape: a new array, or ``out`` when
    it is x's twin, writeable, and overlaps no input but the one it is (in place); None
    for any other ``out`` (the Python layer then checks it).  Fills its view."""
    cdef cnp.ndarray a = <cnp.ndarray>x, o
    if out is None:
        o = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
    else:
        if not _twin(out, a, cnp.PyArray_NDIM(a)):
            return None
        o = <cnp.ndarray>out
        if not cnp.PyArray_ISWRITEABLE(o):
            return None
        if o is not a and _overlap(a, o):
            return None
        if v is not None and o is not v and _overlap(<cnp.ndarray>v, o):
            return None
    ya[0] = xa[0]
    ya.p = cnp.PyArray_DATA(o)
    return o


cdef inline object common_call(object x, object v, object axis, object temperature, object out,
                               object n_threads, bint elementwise, cmf_geom *g, cmf_arr *xa,
                               cmf_arr *va, cmf_arr *ya, double *t):
    """common_input, common_like for a second input v (None: none) and common_out: the
    array to write, or None when the call is not the common one."""
    if not common_input(x, axis, temperature, n_threads, elementwise, g, xa, t):
        return None
    if v is not None and not common_like(v, x, xa, va):
        return None
    return common_out(out, x, v, xa, ya)


cdef inline cmf_arr scalar_view(const double *v) noexcept nogil:
    """One value for every slice (stride 0)."""
    cdef cmf_arr a
    a.p = <void *>v
    a.so = 0
    a.sa = 0
    a.si = 0
    return a


cdef inline float to_f32(double v) noexcept nogil:
    """v rounded to float32 as NumPy's cast rounds it (to nearest, ties to even), beyond the
    range to +-inf without the C cast's undefined behaviour: from FLT_MAX plus half an ulp
    (0x1.ffffffp127, a tie that rounds to the even 2**128) on."""
    if v >= 3.4028235677973366e38:
        return INFINITY
    if v <= -3.4028235677973366e38:
        return -INFINITY
    return <float>v


cdef inline object common_per_slice_out(object out, object x):
    """``out`` for a per-slice result of the common call (x's dtype and shape without its
    last axis, C-contiguous, aligned, writeable, not overlapping x), else None."""
    cdef cnp.ndarray a = <cnp.ndarray>x
    if not _twin(out, a, cnp.PyArray_NDIM(a) - 1) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out):
        return None
    if _overlap(a, <cnp.ndarray>out):
        return None
    return out
