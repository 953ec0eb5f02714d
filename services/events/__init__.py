"""Events service: the event-driven detector (事件驱动侦测器): trigger rules over
customers' money flows and contacts, and the opportunities (next best actions)
they raise.
"""
