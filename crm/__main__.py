"""`python -m crm`: the same commands as the `crm` script (`crm run` starts its workers so)."""

from crm.cli import main

main()
