"""Contact centre service: the call-centre channel (呼叫中心): inbound identification
and screen pop, queues by skill and tier, agents, callbacks and outbound call
lists.
"""
