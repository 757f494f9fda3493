from leviathan_local.entry import main

if __name__ == "__main__":
    main()
