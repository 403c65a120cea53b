"""Lane displays and voice prompts: serial LED text displays, a TTS command hook."""
