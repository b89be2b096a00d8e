"""``python -m reasonsift ...``: the CLI (also ``accelerate launch -m reasonsift train sft ...``)."""

from reasonsift.cli import main

if __name__ == "__main__":
    main()
