"""erp_desktop: a desktop ERP for small businesses, kept in an encrypted company file."""

__version__ = "0.1.0"
