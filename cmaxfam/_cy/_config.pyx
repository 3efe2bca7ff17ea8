# cython: language_level=3
# cython: freethreading_compatible=True
"""Build and runtime configuration of the C core (instruction-set paths)."""
from cmaxfam._cy.kernels cimport cmf_detect_isa, cmf_active_isa
from cmaxfam._cy._common cimport init_isa

init_isa()

ISA_NAMES = ("baseline", "avx2", "avx512")


def detected_isa():
    """The best instruction-set path this CPU and OS support."""
    return ISA_NAMES[cmf_detect_isa()]


def active_isa():
    """The path the kernels use (the detected one, or lower if CMAXFAM_ISA asks)."""
    return ISA_NAMES[cmf_active_isa()]
