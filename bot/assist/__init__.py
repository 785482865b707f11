"""The agent-assist panel and the after-sales analytics the shop's people read."""
