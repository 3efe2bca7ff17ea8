# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: freethreading_compatible=True
"""Compiled entry points of the sampling family (gumbel_softmax's noise, sample_categorical).

Private: the Python layer (cmaxfam._sampling) validates every argument and passes the
chunks of cmaxfam._plumbing.slice_views (tuples of 3-D (outer, n, inner) views) with the
NumPy bit generator to draw from.  The C kernels draw through a cmf_rng filled from the
generator's ``bitgen_t`` (its PyCapsule "BitGenerator"); each call holds the generator's
lock across all of its chunks, so that another thread sharing the generator cannot
interleave its draws, and releases the GIL while it draws.
"""
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid
from libc.stdint cimport int64_t, uint64_t
from numpy.random cimport bitgen_t

from cmaxfam._cy.kernels cimport *
from cmaxfam._cy._common cimport floating, view, absent, geom, check, init_isa

init_isa()


cdef cmf_rng rng_of(bitgen) except *:
    """The cmf_rng of a numpy.random.BitGenerator (valid while the generator lives)."""
    cdef bitgen_t *bg
    cdef cmf_rng r
    capsule = bitgen.capsule
    if not PyCapsule_IsValid(capsule, "BitGenerator"):
        raise TypeError("rng: the bit generator has no 'BitGenerator' capsule")
    bg = <bitgen_t *>PyCapsule_GetPointer(capsule, "BitGenerator")
    r.state = bg.state
    r.next_uint64 = bg.next_uint64
    return r


cdef int noise_chunk(const cmf_rng *r, const floating[:, :, :] x, floating[:, :, :] noise,
                     floating[:, :, :] y) except -1:
    cdef cmf_geom g = geom(&noise.shape[0]) if y is None else geom(&y.shape[0])
    cdef cmf_arr xa = absent() if x is None else view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr na = absent() if noise is None else view(&noise[0, 0, 0], noise.strides, sizeof(floating))
    cdef cmf_arr ya = absent() if y is None else view(&y[0, 0, 0], y.strides, sizeof(floating))
    cdef cmf_status st
    with nogil:
        if floating is float:
            st = cmf_gumbel_noise_f32(&g, r, xa, na, ya)
        else:
            st = cmf_gumbel_noise_f64(&g, r, xa, na, ya)
    return check(st)


def gumbel_noise_slices(bitgen, list chunks):
    """For each chunk (x, noise, y) of same-shape float32 or float64 views: noise = g and
    y = x + g (either may be None; y may be x), g ~ Gumbel(0, 1) drawn from ``bitgen``."""
    cdef cmf_rng r = rng_of(bitgen)
    with bitgen.lock:
        for x, noise, y in chunks:
            if (noise if y is None else y).dtype.itemsize == 4:
                noise_chunk[float](&r, x, noise, y)
            else:
                noise_chunk[double](&r, x, noise, y)


ctypedef struct words:
    const uint64_t *p
    Py_ssize_t n, i


cdef uint64_t next_word(void *state) noexcept nogil:
    cdef words *w = <words *>state
    if w.i == w.n:
        w.i = 0
    w.i += 1
    return w.p[w.i - 1]


def gumbel_noise_from_words(const uint64_t[::1] bits, noise):
    """noise (a 3-D float32/float64 view) = the kernel's Gumbel noise from the given 64-bit
    words instead of a generator, cycling through them: for tests (extreme words) and for
    the benchmark of drawing in NumPy first (``random_raw``) against the capsule."""
    cdef words w
    cdef cmf_rng r
    if bits.shape[0] == 0:
        raise ValueError("bits is empty")
    w.p = &bits[0]
    w.n = bits.shape[0]
    w.i = 0
    r.state = &w
    r.next_uint64 = next_word
    if noise.dtype.itemsize == 4:
        noise_chunk[float](&r, None, noise, None)
    else:
        noise_chunk[double](&r, None, noise, None)


cdef int sample_chunk(const cmf_rng *r, const floating[:, :, :] x, const double[:, :, :] t,
                      const unsigned char[:, :, :] mask, int64_t[:, :, :] idx,
                      Py_ssize_t n_samples, Py_ssize_t sample_stride) except -1:
    """0, or 1 when a slice cannot be sampled (nothing drawn or written)."""
    cdef cmf_geom g = geom(x.shape)
    cdef cmf_arr xa = view(&x[0, 0, 0], x.strides, sizeof(floating))
    cdef cmf_arr ta = view(&t[0, 0, 0], t.strides, sizeof(double))
    cdef cmf_arr ma = absent() if mask is None else view(&mask[0, 0, 0], mask.strides, 1)
    cdef cmf_arr ia = view(&idx[0, 0, 0], idx.strides, sizeof(int64_t))
    cdef cmf_status st
    ia.sa = sample_stride
    with nogil:
        if floating is float:
            st = cmf_sample_categorical_f32(&g, r, xa, ta, ma, n_samples, ia)
        else:
            st = cmf_sample_categorical_f64(&g, r, xa, ta, ma, n_samples, ia)
    if st == CMF_EDOMAIN:
        return 1
    return check(st)


def sample_categorical_slices(bitgen, list chunks, Py_ssize_t n_samples, Py_ssize_t sample_stride):
    """For each chunk (x, t, mask, idx) of non-empty views: n_samples Gumbel-max samples per
    slice into idx (int64, one per slice: a view with stride 0 along the axis), the
    samples ``sample_stride`` elements apart.  mask may be None.  Returns False, having
    drawn nothing, when a slice has a NaN or nothing to draw (the kernel checks every
    slice first; with several chunks, all of them are checked before any draw)."""
    cdef cmf_rng r = rng_of(bitgen)
    passes = [0, n_samples] if len(chunks) > 1 else [n_samples]
    with bitgen.lock:
        for ns in passes:
            for x, t, mask, idx in chunks:
                if x.dtype.itemsize == 4:
                    bad = sample_chunk[float](&r, x, t, mask, idx, ns, sample_stride)
                else:
                    bad = sample_chunk[double](&r, x, t, mask, idx, ns, sample_stride)
                if bad:
                    return False
    return True
