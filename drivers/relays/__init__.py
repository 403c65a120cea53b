"""Relays and lane inputs: USB relay boards, Modbus RTU modules, Raspberry Pi GPIO."""
