"""The planners' forecast of calls per interval and the agents each interval needs."""
