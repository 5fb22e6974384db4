"""The shells: the costmodel command and the dashboard, thin layers over the library."""
