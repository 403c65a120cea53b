"""Card readers: wire formats (pure parsers), debouncing, and the serial reader driver."""
