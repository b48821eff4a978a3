"""`python3 -m heatline ...` is the `heatline` command."""
from heatline.cli import main

main()
