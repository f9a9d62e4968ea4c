from bantar.cli import main

main()
