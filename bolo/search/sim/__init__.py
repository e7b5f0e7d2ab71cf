"""Simulated abductions with ground truth, and the comparison of search strategies on them."""
