"""The decision log of the next best actions: every ranking served, the customers' responses,
the adaptive models learning from them, and the models' health."""
