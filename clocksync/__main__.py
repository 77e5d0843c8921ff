"""`python -m clocksync`."""

from clocksync.cli import main

if __name__ == "__main__":
    main()
