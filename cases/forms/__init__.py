"""The cases app's HTML forms, one module per area."""
