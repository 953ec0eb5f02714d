"""Customer service: the unified customer view (统一客户视图): customers across every
channel, their accounts, transactions and interactions, segmentation and value.
"""
