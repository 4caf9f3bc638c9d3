"""Local tools: demo and benchmarks that run without an AWS account."""
