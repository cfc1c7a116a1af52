from lightning_dream.cli import main

if __name__ == "__main__":
    main()
