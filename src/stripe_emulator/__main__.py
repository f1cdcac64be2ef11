"""`python -m stripe_emulator`: run the emulator CLI."""

from stripe_emulator.cli import app

if __name__ == "__main__":
    app(prog_name="stripe_emulator")
