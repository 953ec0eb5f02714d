"""Complaints service: complaint handling (客户投诉处理): the eight-step procedure, its
deadlines on the bank's business calendar, escalations and root causes.
"""
