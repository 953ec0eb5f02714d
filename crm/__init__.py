"""The composition root: the `crm` command, the embedded run and its launchers."""
