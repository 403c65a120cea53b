from gateway.config.load import EX_CONFIG, load_config, parse_config
from gateway.config.models import SiteConfig
from gateway.config.problems import ConfigError, Problem

__all__ = ["EX_CONFIG", "ConfigError", "Problem", "SiteConfig", "load_config", "parse_config"]
