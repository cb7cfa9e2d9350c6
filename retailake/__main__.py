from retailake.cli import main

main()
