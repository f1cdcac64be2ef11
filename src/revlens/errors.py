"""The error root of revlens and the few errors that callers handle by name."""


class RevlensError(Exception):
    """Base class for errors that revlens reports to a person in one line."""


class ConfigError(RevlensError):
    """A setting is missing or invalid; the message names the setting and what is wrong."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class StartupError(RevlensError):
    """A service that revlens needs (database, queue) cannot be used."""
