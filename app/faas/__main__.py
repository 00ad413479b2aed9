"""Run the Functions command line: `python -m app.faas --help`."""

from .cli import faas

if __name__ == "__main__":
    faas(prog_name="python -m app.faas")
