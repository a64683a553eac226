"""Business logic, one module per concern; handlers call these."""
