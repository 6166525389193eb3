"""The grid as the grid company sees it: hourly PV and load, DL/T 2041 hosting capacity, self-consumption and storage."""
