"""Entry point of the Pulumi component plugin: hosts eksplatform's public components."""

from eksplatform.provider import main

if __name__ == "__main__":
    main()
