"""The cases app's services: every change to a case, its money and its bonds goes through one."""
