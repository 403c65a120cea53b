"""The link with the central server over MQTT: records up, directory and commands down."""
