from shell.cli import main

main(prog_name="bantar")  # python -m shell is the bantar command
