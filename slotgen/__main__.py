from slotgen.cli.app import main

main()
