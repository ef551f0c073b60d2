"""`python -m agentir` runs the command-line tool."""

from agentir.cli import main

if __name__ == "__main__":
    main()
