"""``python -m costmodel``: the costmodel command."""

from costmodel.shells.cli import main

if __name__ == "__main__":
    main()
