"""The link with the central server over MQTT: records up (store-and-forward), directory and commands down."""
