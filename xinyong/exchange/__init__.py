"""Exchange with the provincial and national platforms (数据交换, GB/T 39443-2020): the change
feed, outbound data packages and their acknowledgements, inbound packages' verification."""
