"""cowviz: see how Linux fork(), copy-on-write and page pinning work, era by era."""
__version__ = "0.1.0"
