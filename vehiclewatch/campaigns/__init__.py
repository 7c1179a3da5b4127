"""Holiday periods, working days, campaigns and their weekly rounds."""
