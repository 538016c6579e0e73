"""Tools around tpa that a run never imports: the seeded sample generator (``tpa sample``), the benchmarks (``make bench``) and the test hooks injected through ``TPA_HOOKS``."""
