"""The monthly archive: readings older than the hot window, in immutable Parquet parts."""
