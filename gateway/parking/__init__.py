"""Parking and estate operations: fees, stays and slots, daily reports, patrols, retention.

The modules named after a rule (fees, patrol, retention, report) are pure: time and data come in as
parameters. The store side lives in gateway/store/parking.py (stays and charges) and
gateway/store/holds.py (cars held at an exit); the worker-side wiring in gateway/parking/service.py
and gateway/parking/operations.py (with boot_clock.py).
"""
