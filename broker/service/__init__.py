"""The gRPC layer: validation, conversion to and from the proto contract, status codes."""
