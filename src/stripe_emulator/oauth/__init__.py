"""Connect OAuth on the emulator's origin: authorize (consent page), token, deauthorize."""
