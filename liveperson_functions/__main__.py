"""Run the Functions command line: `python -m liveperson_functions --help`."""

from .cli import faas

if __name__ == "__main__":
    faas(prog_name="python -m liveperson_functions")
