"""This service's projection of the customers (``crm.customer.v1``): identifier digests,
consent, status, the value tier and its routing policy."""
