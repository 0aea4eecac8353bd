"""The Pachyderm gRPC door, driven by the official pachyderm_sdk against a real ``loxo serve``."""
