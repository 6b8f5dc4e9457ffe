from nexus.cli.main import main

main()
