"""Tools: developer commands kept apart from the product (bench, overlap, scaffold, rename, CI helpers)."""
