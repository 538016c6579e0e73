"""tpa: statistics pipeline for targeted poverty alleviation (精准扶贫).

County report workbooks -> pandera -> DuckDB -> indicator marts.
"""

__version__ = "0.1.0"
