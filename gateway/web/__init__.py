"""The guard pages: templates, static files, words in Chinese and English, QR codes."""
