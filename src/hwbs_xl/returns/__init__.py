"""Returns: read, validate and merge the workbooks leads send back, and keep the return register."""
