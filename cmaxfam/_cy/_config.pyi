# Stub of the compiled module cmaxfam/_cy/_config.pyx: the instruction-set paths of the
# C core (used by cmaxfam._config and cmaxfam.show_config).
from typing import Literal, TypeAlias

__test__: dict[str, str]  # Cython's doctest table (empty)

_Isa: TypeAlias = Literal["baseline", "avx2", "avx512"]

ISA_NAMES: tuple[str, str, str]

def detected_isa() -> _Isa: ...
def active_isa() -> _Isa: ...
