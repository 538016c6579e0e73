"""The warehouse: the build of a new DuckDB file, the SQL model runner, table and column comments."""
