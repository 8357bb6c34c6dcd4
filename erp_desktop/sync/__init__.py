"""erp_desktop."""
