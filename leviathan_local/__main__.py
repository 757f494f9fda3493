from leviathan_local.cli.entry import main

if __name__ == "__main__":
    main()
